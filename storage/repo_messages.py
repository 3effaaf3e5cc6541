"""Messages of conversations and their attachments, and where an outbound message stands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select

from storage.models import Attachment, AuditEvent, Conversation, Message
from storage.repo_base import RepositoryBase

__all__ = ["MessageRepository"]

_AUDIT = cast(Table, AuditEvent.__table__)


_UNSET = dict.fromkeys(
    (
        "channel",
        "external_id",
        "author_agent_id",
        "author_name",
        "subject",
        "original_text",
        "html",
        "raw",
        "auto_kind",
        "delivery_status",
        "delivery_error",
        "meta",
    )
)


class MessageRepository(RepositoryBase):
    """Messages of conversations (inbound, outbound, notes, events), attachments, delivery statuses."""

    def new_message(self, conversation: Conversation, kind: str, now: datetime, **fields: Any) -> Message:
        """Stage a message (its conversation may itself be staged, not yet flushed).

        Every column is given (unset ones as None), so the messages of a unit of work are written
        in one INSERT whatever their kind (``Message`` columns evaluate None).
        """
        message = Message(conversation=conversation, kind=kind, created_at=now, **{**_UNSET, **fields})
        self.session.add(message)
        return message

    def add_attachment(self, message: Message, **fields: Any) -> None:
        """Stage an attachment of a message (staged or stored)."""
        self.session.add(Attachment(message=message, **fields))

    async def attachments_of(self, message_id: int) -> list[Attachment]:
        """A message's attachments."""
        stmt = select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def message(self, message_id: int) -> Message:
        """A message by id."""
        return (await self.session.execute(select(Message).where(Message.id == message_id))).scalar_one()

    async def messages_of(self, conversation_id: int, kinds: Iterable[str] | None = None) -> list[Message]:
        """A conversation's messages in order, optionally of some kinds only."""
        stmt = select(Message).where(Message.conversation_id == conversation_id)
        if kinds is not None:
            stmt = stmt.where(Message.kind.in_(list(kinds)))
        return list((await self.session.execute(stmt.order_by(Message.id))).scalars().all())

    async def recent_inbound(self, channel: str, since: datetime) -> list[tuple[str, dict[str, Any]]]:
        """(external id, meta) of the inbound messages on ``channel`` stored since ``since``."""
        stmt = select(Message.external_id, Message.meta).where(
            Message.channel == channel,
            Message.kind == "inbound",
            Message.created_at >= since,
            Message.external_id.is_not(None),
        )
        return [(str(e), m or {}) for e, m in (await self.session.execute(stmt)).all()]

    async def external_ids_of(self, conversation_id: int, channel: str) -> list[str]:
        """External ids of a conversation's messages on a channel, oldest first (email References)."""
        stmt = (
            select(Message.external_id)
            .where(
                Message.conversation_id == conversation_id,
                Message.channel == channel,
                Message.external_id.is_not(None),
                Message.kind.in_(["inbound", "outbound"]),
            )
            .order_by(Message.id)
        )
        return [row for row in (await self.session.execute(stmt)).scalars().all() if row]

    async def messages_by_external_ids(self, external_ids: Sequence[str]) -> list[Message]:
        """Messages with any of these external ids."""
        if not external_ids:
            return []
        stmt = select(Message).where(Message.external_id.in_(list(external_ids)))
        return list((await self.session.execute(stmt)).scalars().all())

    async def message_by_chat_ref(self, chat_ref: str) -> Message | None:
        """The latest message typed as the team-side chat message ``chat_ref`` (``slack:1712.0001``)."""
        stmt = select(Message).where(Message.chat_ref == chat_ref).order_by(Message.id.desc()).limit(1)
        return (await self.session.execute(stmt)).scalars().first()

    async def delete_message(self, message: Message) -> None:
        """Delete a stored message (its attachments and outbox rows go with it)."""
        await self.session.delete(message)

    async def last_customer_meta(self, conversation_id: int) -> dict[str, Any]:
        """The channel details (``meta``) of the customer's last message written by a human, or {}."""
        stmt = (
            select(Message.meta)
            .where(
                Message.conversation_id == conversation_id,
                Message.kind == "inbound",
                Message.auto_kind.is_(None),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return dict((await self.session.execute(stmt)).scalar() or {})

    async def failed_outbound(self, conversation_id: int) -> list[Message]:
        """Replies of a conversation that failed to reach the customer."""
        stmt = select(Message).where(
            Message.conversation_id == conversation_id,
            Message.kind == "outbound",
            Message.delivery_status == "failed",
        )
        return list((await self.session.execute(stmt.order_by(Message.id))).scalars().all())

    async def message_by_external_id(self, channel: str, external_id: str) -> Message | None:
        """The message a channel knows by this external id (a WhatsApp ``wamid``), if stored."""
        stmt = select(Message).where(Message.channel == channel, Message.external_id == external_id)
        return (await self.session.execute(stmt)).scalars().first()

    async def set_delivery_status(self, message: Message, status: str, error: str | None) -> None:
        """Record where an outbound message stands (sent, delivered, read, failed) and why it failed."""
        message.delivery_status = status
        message.delivery_error = error[:2000] if error else None
        await self.session.flush()

    async def recent_reply_by_other(
        self, conversation_id: int, agent_id: int, since: datetime
    ) -> Message | None:
        """The newest reply a *different* agent sent (or queued) to the customer since ``since``."""
        stmt = (
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.kind == "outbound",
                Message.author_agent_id.is_not(None),
                Message.author_agent_id != agent_id,
                Message.created_at >= since,
                Message.delivery_status != "failed",
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()
