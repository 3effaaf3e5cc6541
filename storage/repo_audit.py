"""The audit trail: who did what to which conversation or contact, appended and never rewritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select

from storage.models import (
    AuditEvent,
    Conversation,
)
from storage.repo_base import RepositoryBase

__all__ = ["AuditRepository"]

_AUDIT = cast(Table, AuditEvent.__table__)


class AuditRepository(RepositoryBase):
    """Appending to the audit trail (rows staged and written with Core at the flush) and reading it."""

    def record(
        self,
        *,
        actor: str,
        action: str,
        now: datetime,
        conversation: Conversation | None = None,
        contact_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail; an event of a conversation also names the conversation's contact."""
        values = {
            "actor": actor,
            "action": action,
            "detail": detail or {},
            "created_at": now,
            "conversation_id": None,
            "contact_id": contact_id if conversation is None else conversation.contact_id,
        }
        if conversation is None:
            self.session.stage(_AUDIT, values)
        elif conversation.contact_id is not None:
            self.session.stage(_AUDIT, values, conversation_id=conversation)
        else:  # a conversation staged in this unit of work, with its (maybe also staged) contact
            self.session.stage(_AUDIT, values, conversation_id=conversation, contact_id=conversation.contact)

    async def trail(self, conversation_id: int) -> list[AuditEvent]:
        """A conversation's audit events in order."""
        stmt = select(AuditEvent).where(AuditEvent.conversation_id == conversation_id).order_by(AuditEvent.id)
        return list((await self.session.execute(stmt)).scalars().all())
