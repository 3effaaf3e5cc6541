"""What the scheduler records: SLA due times, reminders sent, and digest runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update

from storage.models import (
    Conversation,
    DigestRun,
    ReminderSent,
)
from storage.repo_base import RepositoryBase

__all__ = ["ScheduleRepository"]


class ScheduleRepository(RepositoryBase):
    """SLA due conversations, reminders and digest runs (claimed once across instances)."""

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
