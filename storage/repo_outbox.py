"""Repository queries of delivery: threads on surfaces, the outbox, channel cursors, seen event ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    ChannelCursorRow,
    Conversation,
    Message,
    OutboxRow,
    ProcessedEvent,
    ThreadRow,
)
from storage.repo_base import RepositoryBase

__all__ = ["NewThread", "OutboxQueries"]

_CURSORS = cast(Table, ChannelCursorRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)
_THREADS = cast(Table, ThreadRow.__table__)


class NewThread(NamedTuple):
    """A conversation's thread on a surface, as a delivery opened it (stored by ``save_threads``)."""

    conversation_id: int
    surface: str
    chat_channel: str
    thread_id: str
    card_id: str


class OutboxQueries(RepositoryBase):
    """Where conversations live on surfaces, and the work waiting to be delivered there."""

    # --- threads -----------------------------------------------------------------------------

    async def thread_of(self, conversation_id: int, surface: str) -> ThreadRow | None:
        """Where a conversation lives on a surface."""
        stmt = select(ThreadRow).where(
            ThreadRow.conversation_id == conversation_id, ThreadRow.surface == surface
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def threads_of(self, conversation_id: int) -> list[ThreadRow]:
        """Every surface's thread of a conversation, the first opened first."""
        stmt = select(ThreadRow).where(ThreadRow.conversation_id == conversation_id).order_by(ThreadRow.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def save_thread(
        self,
        conversation_id: int,
        surface: str,
        chat_channel: str,
        thread_id: str,
        card_id: str,
        now: datetime,
    ) -> None:
        """Record (or replace) a conversation's thread on a surface."""
        await self.save_threads([NewThread(conversation_id, surface, chat_channel, thread_id, card_id)], now)

    async def save_threads(self, threads: Sequence[NewThread], now: datetime) -> None:
        """Record (or replace) threads: one DELETE and one INSERT for all (Core: no ORM objects)."""
        if not threads:
            return
        by_surface: dict[str, list[int]] = {}
        for thread in threads:
            by_surface.setdefault(thread.surface, []).append(thread.conversation_id)
        for surface, conversation_ids in by_surface.items():  # one statement per surface (usually one)
            await self.session.execute(
                delete(_THREADS).where(
                    _THREADS.c.surface == surface, _THREADS.c.conversation_id.in_(conversation_ids)
                )
            )
        await self.session.execute(_THREADS.insert(), [{**t._asdict(), "created_at": now} for t in threads])

    async def forget_thread(self, conversation_id: int, surface: str) -> None:
        """Drop a thread the platform says is gone, so it is recreated."""
        await self.session.execute(
            delete(_THREADS).where(
                _THREADS.c.conversation_id == conversation_id, _THREADS.c.surface == surface
            )
        )

    # --- outbox ------------------------------------------------------------------------------

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
                OutboxRow.next_attempt_at <= now,
                # a row about no conversation (a digest) waits in no conversation's line
                or_(OutboxRow.id == first_in_line, OutboxRow.conversation_id.is_(None)),
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=OutboxRow)
        rows = list((await self.session.execute(stmt)).scalars().all())
        if rows:  # one UPDATE for the batch; the objects are told the stored values, not flushed again
            await self.session.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id.in_([row.id for row in rows]))
                .values(attempts=_OUTBOX.c.attempts + 1, next_attempt_at=lease_until)
            )
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
        stmt = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id == bindparam("row_id"))
            .values(status="done", delivered_at=now, external_ref=bindparam("ref"), last_error=None)
        )
        await self.session.execute(stmt, [{"row_id": row_id, "ref": ref} for row_id, ref in delivered])

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

    # --- cursors and processed events --------------------------------------------------------

    async def cursor(self, key: str) -> str | None:
        """A channel cursor's value."""
        stmt = select(_CURSORS.c.value).where(_CURSORS.c.key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def save_cursor(self, key: str, value: str, now: datetime) -> None:
        """Set a channel cursor."""
        await self.save_cursors({key: value}, now)

    async def save_cursors(self, values: dict[str, str], now: datetime) -> None:
        """Set channel cursors (``key -> value``): one INSERT … ON CONFLICT for all, no ORM object."""
        if not values:
            return
        insert = sqlite_insert if self.dialect == "sqlite" else postgresql_insert
        stmt = insert(_CURSORS)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_CURSORS.c.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        rows = [{"key": key, "value": value, "updated_at": now} for key, value in sorted(values.items())]
        await self.session.execute(stmt, rows)

    async def first_time(self, key: str, now: datetime) -> bool:
        """Record an event key; False when it was already recorded (a redelivery)."""
        if await self.session.get(ProcessedEvent, key) is not None:
            return False
        self.session.add(ProcessedEvent(key=key, created_at=now))
        await self.session.flush()
        return True
