"""Conversations: looked up by number, thread or posted item, listed by a filter, counted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from storage.models import (
    Conversation,
    ConversationLabel,
    Label,
    OutboxRow,
    ThreadRow,
)
from storage.ordering import PRIORITY_RANK
from storage.repo_base import RepositoryBase

__all__ = ["ConversationFilter", "ConversationRepository"]


class ConversationFilter:
    """Criteria for listing conversations; all optional."""

    def __init__(
        self,
        *,
        status: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        label: str | None = None,
        inbox: str | None = None,
        limit: int = 50,
    ) -> None:
        self.status = status
        self.assignee_id = assignee_id
        self.unassigned = unassigned
        self.label = label
        self.inbox = inbox
        self.limit = limit


def _matching(stmt: Select[Any], flt: ConversationFilter) -> Select[Any]:
    """``stmt`` narrowed to the conversations ``flt`` describes."""
    if flt.status:
        stmt = stmt.where(Conversation.status == flt.status)
    if flt.assignee_id is not None:
        stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
    if flt.unassigned:
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    if flt.inbox:
        stmt = stmt.where(Conversation.inbox == flt.inbox)
    if flt.label:
        stmt = stmt.join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id).join(
            Label, and_(Label.id == ConversationLabel.label_id, Label.key == flt.label.lower())
        )
    return stmt


class ConversationRepository(RepositoryBase):
    """Queries of conversations (their writes are attribute changes on the objects returned)."""

    async def conversation_by_number(self, number: int) -> Conversation | None:
        """A conversation by its number."""
        stmt = select(Conversation).where(Conversation.number == number)
        return (await self.session.execute(stmt)).scalars().first()

    async def conversation(self, conversation_id: int) -> Conversation:
        """A conversation by id."""
        return (
            await self.session.execute(select(Conversation).where(Conversation.id == conversation_id))
        ).scalar_one()

    async def conversation_by_thread(self, surface: str, thread_id: str) -> Conversation | None:
        """The conversation mirrored in a surface thread."""
        stmt = (
            select(Conversation)
            .join(ThreadRow, ThreadRow.conversation_id == Conversation.id)
            .where(ThreadRow.surface == surface, ThreadRow.thread_id == thread_id)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def conversation_by_item(self, surface: str, item_id: str) -> Conversation | None:
        """The conversation whose card, or a message posted in its thread, is surface message ``item_id``."""
        by_card = (
            select(Conversation)
            .join(ThreadRow, ThreadRow.conversation_id == Conversation.id)
            .where(ThreadRow.surface == surface, ThreadRow.card_id == item_id)
        )
        found = (await self.session.execute(by_card)).scalars().first()
        if found is not None:
            return found
        ref = OutboxRow.external_ref  # the posted ids of a row, space-separated (files first)
        by_post = (
            select(Conversation)
            .join(OutboxRow, OutboxRow.conversation_id == Conversation.id)
            .where(
                OutboxRow.destination == f"surface:{surface}",
                OutboxRow.status == "done",
                or_(
                    ref == item_id,
                    ref.like(f"{item_id} %"),
                    ref.like(f"% {item_id}"),
                    ref.like(f"% {item_id} %"),
                ),
            )
        )
        return (await self.session.execute(by_post.limit(1))).scalars().first()

    async def contact_conversations(self, contact_id: int, limit: int = 20) -> list[Conversation]:
        """A contact's conversations, newest first."""
        stmt = (
            select(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def list_conversations(self, flt: ConversationFilter) -> list[Conversation]:
        """Conversations matching the filter, most urgent and oldest first."""
        stmt = _matching(select(Conversation), flt)
        stmt = stmt.order_by(PRIORITY_RANK, Conversation.updated_at.asc(), Conversation.id).limit(flt.limit)
        return list((await self.session.execute(stmt)).scalars().all())

    async def count_matching(self, flt: ConversationFilter) -> int:
        """How many conversations match the filter, whatever its limit."""
        stmt = _matching(select(func.count(Conversation.id)), flt)
        return int((await self.session.execute(stmt)).scalar_one())

    async def due_snoozed(self, now: datetime, limit: int = 100) -> list[Conversation]:
        """Snoozed conversations whose time has come."""
        stmt = (
            select(Conversation)
            .where(Conversation.status == "snoozed", Conversation.snoozed_until <= now)
            .order_by(Conversation.snoozed_until)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def count_conversations(self) -> int:
        """How many conversations exist."""
        return int((await self.session.execute(select(func.count(Conversation.id)))).scalar_one())

    async def conversations_of(self, contact_id: int) -> list[Conversation]:
        """All of a contact's conversations, oldest first."""
        stmt = select(Conversation).where(Conversation.contact_id == contact_id).order_by(Conversation.id)
        return list((await self.session.execute(stmt)).scalars().all())
