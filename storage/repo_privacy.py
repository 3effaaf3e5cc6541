"""A contact's data exported, or erased in every table (``/contact forget``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from storage.models import (
    Attachment,
    AuditEvent,
    Contact,
    ContactIdentity,
    ContactNote,
    Conversation,
    CsatRating,
    Message,
    OutboxRow,
)
from storage.repo_base import RepositoryBase

__all__ = ["ERASED", "PrivacyRepository"]

ERASED = "[erased]"
"""What erased personal text is replaced with."""


class PrivacyRepository(RepositoryBase):
    """Export and erasure of a contact's personal data."""

    async def export_rows(self, conversation_ids: list[int]) -> dict[str, list[Any]]:
        """Messages, attachments, audit events and ratings of conversations, for an export."""
        ids = conversation_ids or [-1]
        messages = list(
            (
                await self.session.execute(
                    select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id)
                )
            )
            .scalars()
            .all()
        )
        message_ids = [m.id for m in messages] or [-1]
        attachments = list(
            (await self.session.execute(select(Attachment).where(Attachment.message_id.in_(message_ids))))
            .scalars()
            .all()
        )
        audit = list(
            (
                await self.session.execute(
                    select(AuditEvent).where(AuditEvent.conversation_id.in_(ids)).order_by(AuditEvent.id)
                )
            )
            .scalars()
            .all()
        )
        ratings = list(
            (await self.session.execute(select(CsatRating).where(CsatRating.conversation_id.in_(ids))))
            .scalars()
            .all()
        )
        return {"messages": messages, "attachments": attachments, "audit": audit, "ratings": ratings}

    async def sent_external_ids(self, conversation_ids: Sequence[int]) -> list[tuple[str, str]]:
        """(channel, external id) of every reply sent in these conversations (Message-ID, wamid)."""
        stmt = select(Message.channel, Message.external_id).where(
            Message.conversation_id.in_(list(conversation_ids) or [-1]),
            Message.kind == "outbound",
            Message.external_id.is_not(None),
        )
        rows = (await self.session.execute(stmt)).all()
        return [(str(channel), str(external)) for channel, external in rows]

    async def erase_contact(self, contact: Contact, now: datetime) -> list[int]:
        """Erase a contact's personal data in every table; the ids of its conversations (kept, anonymised)."""
        stmt = select(Conversation.id).where(Conversation.contact_id == contact.id).order_by(Conversation.id)
        ids = [int(i) for i in (await self.session.execute(stmt)).scalars().all()]
        scope = ids or [-1]
        message_ids = select(Message.id).where(Message.conversation_id.in_(scope))
        await self.session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
        for message in (
            await self.session.execute(select(Message).where(Message.conversation_id.in_(scope)))
        ).scalars():
            message.text = ERASED
            message.original_text = message.html = message.raw = None
            message.subject = None
            message.meta = {"erased": True} if message.meta else None
            message.delivery_error = None
            if message.kind == "inbound":
                message.author_name = ERASED
                if message.external_id:
                    digest = hashlib.sha256(message.external_id.encode()).hexdigest()[:40]
                    message.external_id = f"erased:{digest}"
        await self.session.execute(
            update(Conversation).where(Conversation.id.in_(scope)).values(subject=ERASED)
        )
        await self.session.execute(
            update(AuditEvent)
            .where((AuditEvent.conversation_id.in_(scope)) | (AuditEvent.contact_id == contact.id))
            .values(detail={"erased": True})
        )
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.conversation_id.in_(scope)).values(payload={}, last_error=None)
        )
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.conversation_id.in_(scope), OutboxRow.status == "pending")
            .values(status="cancelled", last_error="cancelled: the contact was forgotten")
        )
        await self.session.execute(delete(ContactNote).where(ContactNote.contact_id == contact.id))
        await self.session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact.id))
        contact.name = None
        await self.session.flush()
        return ids
