"""The outbox: work waiting to be delivered to surfaces and channels, claimed, renewed and finished."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    ChannelCursorRow,
    Conversation,
    Message,
    OutboxRow,
    ThreadRow,
)
from storage.repo_base import RepositoryBase
from storage.repo_repairs import SUPERSEDED

__all__ = ["OutboxRepository"]

_CURSORS = cast(Table, ChannelCursorRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)
_THREADS = cast(Table, ThreadRow.__table__)

# The dispatcher's statements, built once (building one cost more Python time than running it).
_CLAIMED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(attempts=_OUTBOX.c.attempts + 1, next_attempt_at=bindparam("lease"))
)
_DELIVERED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(status="done", delivered_at=bindparam("now"), external_ref=bindparam("ref"), last_error=None)
)


@cache
def _claim(dialect: str, limit: int) -> Select[OutboxRow]:
    """Due rows first in line for their conversation and destination, oldest first (``now`` bound)."""
    earlier = aliased(OutboxRow)
    first_in_line = (
        select(func.min(earlier.id))
        .where(
            earlier.status == "pending",
            earlier.conversation_id == OutboxRow.conversation_id,
            earlier.destination == OutboxRow.destination,
        )
        .scalar_subquery()
    )
    stmt = (
        select(OutboxRow)
        .where(
            OutboxRow.status == "pending",
            OutboxRow.next_attempt_at <= bindparam("now"),
            # a row about no conversation (a digest) waits in no conversation's line
            or_(OutboxRow.id == first_in_line, OutboxRow.conversation_id.is_(None)),
        )
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxRow)
    return stmt


class OutboxRepository(RepositoryBase):
    """Outbox rows: written, claimed in line order, delivered, held for undo, rerouted."""

    async def enqueue(
        self,
        conversation: Conversation,
        destination: str,
        kind: str,
        now: datetime,
        *,
        message: Message | None = None,
        payload: dict[str, Any] | None = None,
        coalesce: bool = False,
        due: datetime | None = None,
    ) -> None:
        """Write an outbox row; with ``coalesce``, skip it when an untried identical row is waiting.

        ``due`` holds the row until then (a reply's undo window); by default it is due ``now``.
        The conversation and message may be staged in this unit of work and not yet flushed.
        """
        if coalesce and self._staged_row(conversation, destination, kind):
            return
        if coalesce and conversation.id is not None:
            stmt = select(OutboxRow.id).where(
                OutboxRow.conversation_id == conversation.id,
                OutboxRow.destination == destination,
                OutboxRow.kind == kind,
                OutboxRow.status == "pending",
                OutboxRow.attempts == 0,
            )
            if (await self.session.execute(stmt)).first() is not None:
                return
        values = {
            "destination": destination,
            "kind": kind,
            "payload": payload or {},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": due or now,
            "last_error": None,
            "external_ref": None,
            "created_at": now,
            "delivered_at": None,
        }
        self.session.stage(_OUTBOX, values, conversation_id=conversation, message_id=message)

    async def enqueue_claimed(
        self, destination: str, kind: str, now: datetime, lease_until: datetime, payload: dict[str, Any]
    ) -> OutboxRow:
        """Write a row about no conversation (a digest), claimed by the writer until ``lease_until``.

        The writer delivers it at once; if it dies first, the row comes back when the claim runs out.
        """
        row = OutboxRow(
            conversation_id=None,
            destination=destination,
            kind=kind,
            payload=payload,
            status="pending",
            attempts=1,
            next_attempt_at=lease_until,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def enqueue_view(
        self, destination: str, kind: str, target: str, now: datetime, payload: dict[str, Any]
    ) -> None:
        """Write a row about no conversation showing the newest view of ``target`` (a user's App Home, a
        channel's pinned queue): the rows for that target still pending are marked superseded, so
        only the newest view goes out (one being delivered no longer renews its claim and is skipped)."""
        stmt = select(OutboxRow).where(
            OutboxRow.conversation_id.is_(None),
            OutboxRow.destination == destination,
            OutboxRow.kind == kind,
            OutboxRow.status == "pending",
        )
        for older in (await self.session.execute(stmt)).scalars():
            if older.payload.get("target") == target:
                older.status = SUPERSEDED
        self.session.add(
            OutboxRow(
                conversation_id=None,
                destination=destination,
                kind=kind,
                payload={**payload, "target": target},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def _staged_row(self, conversation: Conversation, destination: str, kind: str) -> bool:
        """True when this unit of work already staged such a row (ingest flushes once per batch)."""
        return any(
            row.parents["conversation_id"] is conversation
            and row.values["destination"] == destination
            and row.values["kind"] == kind
            for row in self.session.staged(_OUTBOX)
        )

    async def claim_outbox(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxRow]:
        """Claim due rows that are first in line for their conversation and destination.

        A claimed row stays ``pending`` with ``next_attempt_at`` pushed to ``lease_until``, so
        a crashed instance's rows come back by themselves. On PostgreSQL rows are locked with
        ``FOR UPDATE SKIP LOCKED`` so several instances never claim the same row.
        """
        found = await self.session.execute(_claim(self.dialect, limit), {"now": now})
        rows = list(found.scalars().all())
        if rows:  # one UPDATE for the batch; the objects are told the stored values, not flushed again
            await self.session.execute(_CLAIMED, {"ids": [row.id for row in rows], "lease": lease_until})
        for row in rows:
            set_committed_value(row, "attempts", row.attempts + 1)
            set_committed_value(row, "next_attempt_at", lease_until)
        return rows

    async def renew_outbox_claim(self, row_id: int, attempts: int, lease_until: datetime) -> bool:
        """Extend this instance's claim of a row to ``lease_until``; False when the claim was lost.

        ``attempts`` is the row's count as this instance claimed it: every claim adds one, so a
        row claimed since by another instance (after this claim ran out) no longer matches.
        """
        result = await self.session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == row_id, _OUTBOX.c.status == "pending", _OUTBOX.c.attempts == attempts)
            .values(next_attempt_at=lease_until)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_delivered_many(self, delivered: Sequence[tuple[int, str | None]], now: datetime) -> None:
        """Mark outbox rows done, each with its platform id ``(row id, external ref)``: one executemany."""
        if not delivered:
            return
        rows = [{"row_id": row_id, "ref": ref, "now": now} for row_id, ref in delivered]
        await self.session.execute(_DELIVERED, rows)

    async def held_sends(self, conversation_id: int) -> list[OutboxRow]:
        """A conversation's ``send`` rows that have not left the outbox yet (never claimed), newest first."""
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.conversation_id == conversation_id,
                OutboxRow.kind == "send",
                OutboxRow.status == "pending",
                OutboxRow.attempts == 0,
                OutboxRow.message_id.is_not(None),
            )
            .order_by(OutboxRow.id.desc())
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def held_send_of(self, message_id: int) -> OutboxRow | None:
        """The ``send`` row of a message while it has not left the outbox yet (never claimed)."""
        stmt = select(OutboxRow).where(
            OutboxRow.message_id == message_id,
            OutboxRow.kind == "send",
            OutboxRow.status == "pending",
            OutboxRow.attempts == 0,
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def keep_held(self, row_id: int, *, cancel: bool = False) -> bool:
        """Take a held ``send`` row for this unit of work, or cancel it (status ``undone``).

        One conditional UPDATE: it locks the row on PostgreSQL (the dispatcher's ``SKIP LOCKED``
        claim passes it by) and matches nothing once the dispatcher claimed it (``attempts`` > 0),
        so an edit or an undo either wins the race with the delivery or is told it is too late.
        """
        result = await self.session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == row_id, _OUTBOX.c.status == "pending", _OUTBOX.c.attempts == 0)
            .values(status="undone" if cancel else "pending")
        )
        return bool(getattr(result, "rowcount", 0))

    async def outbox_row(self, row_id: int) -> OutboxRow:
        """An outbox row by id."""
        return (await self.session.execute(select(OutboxRow).where(OutboxRow.id == row_id))).scalar_one()

    async def outbox_stats(self, now: datetime) -> tuple[int, float]:
        """(pending rows, age in seconds of the oldest pending row)."""
        count, oldest = (
            await self.session.execute(
                select(func.count(OutboxRow.id), func.min(OutboxRow.created_at)).where(
                    OutboxRow.status == "pending"
                )
            )
        ).one()
        if oldest is None:
            return int(count), 0.0
        return int(count), (now - oldest).total_seconds()

    async def next_outbox_due(self) -> datetime | None:
        """When the next pending row becomes due."""
        stmt = select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def waiting_rows(self, conversation_ids: Iterable[int], kind: str) -> set[tuple[int, str]]:
        """(conversation_id, destination) of untried pending outbox rows of ``kind`` (for coalescing)."""
        ids = sorted(set(conversation_ids))
        if not ids:
            return set()
        stmt = select(OutboxRow.conversation_id, OutboxRow.destination).where(
            OutboxRow.conversation_id.in_(ids),
            OutboxRow.kind == kind,
            OutboxRow.status == "pending",
            OutboxRow.attempts == 0,
        )
        return {(int(c), str(d)) for c, d in (await self.session.execute(stmt)).all()}

    async def reroute(self, conversation_id: int, old: str, new: str) -> None:
        """Send a conversation's untried outbox rows for ``old`` to ``new`` instead (a routed inbox)."""
        await self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.conversation_id == conversation_id,
                OutboxRow.destination == old,
                OutboxRow.status == "pending",
            )
            .values(destination=new)
        )
