"""Aggregate queries for digests and reports: counted and grouped in SQL, never row by row.

``inboxes`` arguments filter by inbox name; an empty sequence means every inbox.
Durations come back as seconds (floats), computed by the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, union_all

from storage.models import (
    Agent,
    AuditEvent,
    Conversation,
    ConversationLabel,
    Label,
    ReminderSent,
    ThreadRow,
)
from storage.ordering import PRIORITY_RANK
from storage.staged import StagingSession

__all__ = ["Stats"]


class Stats:
    """Read-only aggregates over conversations, reminders and the audit trail."""

    def __init__(self, session: StagingSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def _inbox(self, inboxes: Sequence[str]) -> ColumnElement[bool]:
        return Conversation.inbox.in_(list(inboxes)) if inboxes else Conversation.id.is_not(None)

    def _seconds(self, later: Any, earlier: Any) -> Any:
        if self.dialect == "postgresql":
            return func.extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    async def current_counts(self, inboxes: Sequence[str]) -> dict[str, int]:
        """open, unassigned (open without assignee), snoozed and breached (not closed) counts."""
        stmt = select(
            func.sum(case((Conversation.status == "open", 1), else_=0)),
            func.sum(
                case((and_(Conversation.status == "open", Conversation.assignee_id.is_(None)), 1), else_=0)
            ),
            func.sum(case((Conversation.status == "snoozed", 1), else_=0)),
            func.sum(
                case(
                    (and_(Conversation.status != "closed", Conversation.sla_state == "breached"), 1), else_=0
                )
            ),
        ).where(self._inbox(inboxes), Conversation.status != "closed")
        row = (await self.session.execute(stmt)).one()
        return dict(
            zip(("open", "unassigned", "snoozed", "breached"), (int(v or 0) for v in row), strict=True)
        )

    async def oldest_waiting(self, inboxes: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Open conversations with a waiting customer, most urgent then longest first, with thread."""
        if limit <= 0:
            return []
        longest = (
            select(Conversation.id)
            .where(
                self._inbox(inboxes), Conversation.status == "open", Conversation.waiting_since.is_not(None)
            )
            .order_by(PRIORITY_RANK, Conversation.waiting_since)
            .limit(limit)
        )
        stmt = (
            select(Conversation, Agent.name, ThreadRow.surface, ThreadRow.chat_channel, ThreadRow.thread_id)
            .outerjoin(Agent, Agent.id == Conversation.assignee_id)
            .outerjoin(ThreadRow, ThreadRow.conversation_id == Conversation.id)
            .where(Conversation.id.in_(longest))
            .order_by(PRIORITY_RANK, Conversation.waiting_since, Conversation.id)
        )
        rows = []
        for conv, assignee, surface, chat_channel, thread_id in (await self.session.execute(stmt)).all():
            rows.append(
                {
                    "conversation": conv,
                    "assignee": assignee,
                    "surface": surface,
                    "chat_channel": chat_channel,
                    "thread_id": thread_id,
                }
            )
        return rows

    async def by_assignee(self, inboxes: Sequence[str]) -> list[tuple[str | None, int]]:
        """Open conversations per assignee name (None = unassigned), most first: the digest's "open"."""
        count = func.count(Conversation.id)
        stmt = (
            select(Agent.name, count)
            .select_from(Conversation)
            .outerjoin(Agent, Agent.id == Conversation.assignee_id)
            .where(self._inbox(inboxes), Conversation.status == "open")
            .group_by(Agent.name)
            .order_by(count.desc(), Agent.name)
        )
        return [(name, int(n)) for name, n in (await self.session.execute(stmt)).all()]

    async def by_label(
        self, inboxes: Sequence[str], start: datetime | None = None, end: datetime | None = None
    ) -> list[tuple[str, int]]:
        """Per label: not-closed conversations, or (with a period) conversations opened in it."""
        count = func.count(Conversation.id)
        stmt = (
            select(Label.name, count)
            .select_from(ConversationLabel)
            .join(Label, Label.id == ConversationLabel.label_id)
            .join(Conversation, Conversation.id == ConversationLabel.conversation_id)
            .where(self._inbox(inboxes))
            .group_by(Label.name)
            .order_by(count.desc(), Label.name)
        )
        if start is not None and end is not None:
            stmt = stmt.where(Conversation.created_at >= start, Conversation.created_at < end)
        else:
            stmt = stmt.where(Conversation.status != "closed")
        return [(name, int(n)) for name, n in (await self.session.execute(stmt)).all()]

    async def opened_closed(self, inboxes: Sequence[str], start: datetime, end: datetime) -> tuple[int, int]:
        """Conversations opened, and closed, in [start, end)."""
        opened = select(func.count(Conversation.id)).where(
            self._inbox(inboxes), Conversation.created_at >= start, Conversation.created_at < end
        )
        closed = select(func.count(Conversation.id)).where(
            self._inbox(inboxes), Conversation.closed_at >= start, Conversation.closed_at < end
        )
        return int((await self.session.execute(opened)).scalar_one()), int(
            (await self.session.execute(closed)).scalar_one()
        )

    async def opened_moments(
        self, inboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[tuple[datetime, str]]:
        """(created_at, channel) of every conversation opened in [start, end), for volume charts."""
        stmt = select(Conversation.created_at, Conversation.channel).where(
            self._inbox(inboxes), Conversation.created_at >= start, Conversation.created_at < end
        )
        return [(when, channel) for when, channel in (await self.session.execute(stmt)).all()]

    async def durations(
        self, inboxes: Sequence[str], start: datetime, end: datetime, kind: str
    ) -> list[tuple[str, str, float]]:
        """(inbox, channel, seconds) of first responses (``first_response``) or resolutions in the period."""
        moment = Conversation.first_response_at if kind == "first_response" else Conversation.closed_at
        stmt = select(
            Conversation.inbox, Conversation.channel, self._seconds(moment, Conversation.created_at)
        ).where(self._inbox(inboxes), moment >= start, moment < end)
        return [(i, c, round(float(s), 3)) for i, c, s in (await self.session.execute(stmt)).all()]

    async def compliance(self, inboxes: Sequence[str], start: datetime, end: datetime) -> tuple[int, int]:
        """(handled, breached): conversations answered or closed in the period or breaching in it, and
        how many of those ever breached a target.

        The work grows with the handled conversations plus the breaches, never with their product:
        the handled ones come from three disjoint index range scans (first responses; closes not
        answered in the period; breaches due in it of conversations neither answered nor closed in
        it), so no de-duplication of the whole set is needed, and the conversations that ever
        breached are read once from the ``(level, due_at, conversation_id)`` index and probed per
        handled conversation. (A correlated ``EXISTS`` per conversation was served from that index
        by its leading column alone: every breach row scanned once per handled conversation.)
        """
        responded = and_(Conversation.first_response_at >= start, Conversation.first_response_at < end)
        closed = and_(Conversation.closed_at >= start, Conversation.closed_at < end)
        touched = union_all(
            select(Conversation.id.label("id")).where(self._inbox(inboxes), responded),
            select(Conversation.id).where(self._inbox(inboxes), closed, self._outside(responded)),
            select(ReminderSent.conversation_id)
            .distinct()
            .join(Conversation, Conversation.id == ReminderSent.conversation_id)
            .where(
                ReminderSent.level == "breach",
                ReminderSent.due_at >= start,
                ReminderSent.due_at < end,
                self._inbox(inboxes),
                self._outside(responded),
                self._outside(closed),
            ),
        ).subquery()
        ever_breached = select(ReminderSent.conversation_id).where(ReminderSent.level == "breach")
        stmt = select(
            func.count(touched.c.id), func.sum(case((touched.c.id.in_(ever_breached), 1), else_=0))
        ).select_from(touched)
        handled, breached = (await self.session.execute(stmt)).one()
        return int(handled or 0), int(breached or 0)

    @staticmethod
    def _outside(in_period: ColumnElement[bool]) -> ColumnElement[bool]:
        """NOT ``in_period`` where a missing moment (NULL) counts as outside it."""
        return func.coalesce(in_period, False).is_(False)

    async def volume(
        self, inboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[tuple[str, str, int]]:
        """(inbox, channel, conversations opened) in the period."""
        stmt = (
            select(Conversation.inbox, Conversation.channel, func.count(Conversation.id))
            .where(self._inbox(inboxes), Conversation.created_at >= start, Conversation.created_at < end)
            .group_by(Conversation.inbox, Conversation.channel)
            .order_by(Conversation.inbox, Conversation.channel)
        )
        return [(i, c, int(n)) for i, c, n in (await self.session.execute(stmt)).all()]

    async def actions_by_actor(
        self, inboxes: Sequence[str], start: datetime, end: datetime, actions: Sequence[str]
    ) -> list[tuple[str, str, int]]:
        """(actor, action, count) from the audit trail in the period, for team actions."""
        stmt = (
            select(AuditEvent.actor, AuditEvent.action, func.count(AuditEvent.id))
            .join(Conversation, Conversation.id == AuditEvent.conversation_id)
            .where(
                self._inbox(inboxes),
                AuditEvent.created_at >= start,
                AuditEvent.created_at < end,
                AuditEvent.action.in_(list(actions)),
            )
            .group_by(AuditEvent.actor, AuditEvent.action)
            .order_by(AuditEvent.actor, AuditEvent.action)
        )
        return [(a, b, int(n)) for a, b, n in (await self.session.execute(stmt)).all()]
