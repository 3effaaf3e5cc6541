"""Repository queries of the scheduler (SLA reminders, leases, digest runs) and delivery receipts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import (
    Agent,
    Conversation,
    DigestRun,
    Lease,
    Message,
    OutboxRow,
    ReminderSent,
)
from storage.repo_base import RepositoryBase
from storage.stats import Stats

__all__ = ["SchedulingQueries"]


class SchedulingQueries(RepositoryBase):
    """SLA due times and reminders, leases, digest runs, statistics, and delivery statuses."""

    # --- sla and digests ---------------------------------------------------------------------

    async def sla_due(self, now: datetime, limit: int = 500) -> list[Conversation]:
        """Conversations whose next SLA point (warning or breach) has come: one indexed range scan."""
        stmt = (
            select(Conversation)
            .where(Conversation.sla_next_at <= now)
            .order_by(Conversation.sla_next_at, Conversation.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list((await self.session.execute(stmt)).scalars().all())

    def _insert(self, model: Any) -> Any:
        return pg_insert(model) if self.dialect == "postgresql" else sqlite_insert(model)

    async def record_reminder(
        self, conversation_id: int, target: str, level: str, due_at: datetime, now: datetime, *, late: bool
    ) -> bool:
        """Record that a reminder fires; False when it already fired (unique key, any instance)."""
        stmt = (
            self._insert(ReminderSent)
            .values(
                conversation_id=conversation_id,
                target=target,
                level=level,
                due_at=due_at,
                sent_at=now,
                late=late,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "target", "level"])
            .returning(ReminderSent.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def reminders_of(self, conversation_id: int) -> list[ReminderSent]:
        """The reminders a conversation got, in order."""
        stmt = (
            select(ReminderSent)
            .where(ReminderSent.conversation_id == conversation_id)
            .order_by(ReminderSent.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease ``name`` until ``until``; False while another holder's lease runs."""
        insert_stmt = self._insert(Lease).values(name=name, holder=holder, expires_at=until)
        stmt = insert_stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": until},
            where=or_(Lease.expires_at <= now, Lease.holder == holder),
        ).returning(Lease.holder)
        return (await self.session.execute(stmt)).first() is not None

    async def release_lease(self, name: str, holder: str) -> None:
        """Give a lease up (only when this holder has it)."""
        await self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    async def release_leases(self, holder: str) -> None:
        """Give up every lease ``holder`` has."""
        await self.session.execute(delete(Lease).where(Lease.holder == holder))

    async def last_digest_run(self, name: str) -> DigestRun | None:
        """The newest sent run of a digest."""
        stmt = (
            select(DigestRun)
            .where(DigestRun.name == name, DigestRun.sent_at.is_not(None))
            .order_by(DigestRun.period_end.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def claim_digest_run(
        self,
        name: str,
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        late: bool,
        stale: timedelta,
    ) -> int | None:
        """Claim one digest period; None when it was already claimed (sent, or being sent elsewhere).

        An unsent claim older than ``stale`` (its instance died while posting) is taken over.
        """
        stmt = (
            self._insert(DigestRun)
            .values(name=name, period_start=start, period_end=end, claimed_at=now, late=late)
            .on_conflict_do_update(
                index_elements=["name", "period_end"],
                set_={"claimed_at": now, "late": late},
                where=and_(DigestRun.sent_at.is_(None), DigestRun.claimed_at < now - stale),
            )
            .returning(DigestRun.id)
        )
        row = (await self.session.execute(stmt)).first()
        return int(row[0]) if row is not None else None

    async def finish_digest_run(self, run_id: int, now: datetime | None) -> None:
        """Mark a claimed run sent (``now``), or drop the claim (None) so it is tried again."""
        if now is None:
            await self.session.execute(delete(DigestRun).where(DigestRun.id == run_id))
        else:
            await self.session.execute(update(DigestRun).where(DigestRun.id == run_id).values(sent_at=now))

    async def record_reminders(self, rows: Sequence[dict[str, Any]]) -> set[tuple[int, str, str]]:
        """Record many reminders at once (keys as ``record_reminder``); the (conversation_id, target, level)
        keys that were new — those already recorded by anyone are left out."""
        if not rows:
            return set()
        stmt = (  # one statement for any number of rows (executemany), compiled once and cached
            self._insert(ReminderSent)
            .on_conflict_do_nothing(index_elements=["conversation_id", "target", "level"])
            .returning(ReminderSent.conversation_id, ReminderSent.target, ReminderSent.level)
        )
        return {
            (int(c), str(t), str(lv)) for c, t, lv in (await self.session.execute(stmt, list(rows))).all()
        }

    async def agent_names(self, agent_ids: Iterable[int]) -> dict[int, str]:
        """Names of agents by id."""
        ids = sorted(set(agent_ids))
        if not ids:
            return {}
        rows = (await self.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))).all()
        return {int(i): str(n) for i, n in rows}

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

    def stats(self) -> Stats:
        """Aggregate queries for digests and reports (``storage.stats.Stats``) in this transaction."""
        return Stats(self.session, self.dialect)

    # --- delivery statuses (whatsapp) ------------------------------------------------------------

    async def message_by_external_id(self, channel: str, external_id: str) -> Message | None:
        """The message a channel knows by this external id (a WhatsApp ``wamid``), if stored."""
        stmt = select(Message).where(Message.channel == channel, Message.external_id == external_id)
        return (await self.session.execute(stmt)).scalars().first()

    async def set_delivery_status(self, message: Message, status: str, error: str | None) -> None:
        """Record where an outbound message stands (sent, delivered, read, failed) and why it failed."""
        message.delivery_status = status
        message.delivery_error = error[:2000] if error else None
        await self.session.flush()
