"""Customer satisfaction: the question sent, and the ratings given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import (
    Conversation,
    CsatRating,
    Message,
)
from storage.repo_base import RepositoryBase

__all__ = ["CsatRepository"]


class CsatRepository(RepositoryBase):
    """CSAT ratings of conversations and the question they answer."""

    async def record_rating(self, conversation: Conversation, rating: int, now: datetime) -> None:
        """Store a conversation's rating (a later answer replaces an earlier one)."""
        stmt = select(CsatRating).where(CsatRating.conversation_id == conversation.id)
        found = (await self.session.execute(stmt)).scalars().first()
        if found is None:
            self.session.add(
                CsatRating(
                    conversation_id=conversation.id, inbox=conversation.inbox, rating=rating, created_at=now
                )
            )
        else:
            found.rating, found.created_at = rating, now

    async def rating_of(self, conversation_id: int) -> int | None:
        """A conversation's rating, if any."""
        stmt = select(CsatRating.rating).where(CsatRating.conversation_id == conversation_id)
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def ratings(self, since: datetime, until: datetime) -> list[tuple[str, int]]:
        """(inbox, rating) of ratings given in [since, until) — for reports."""
        stmt = select(CsatRating.inbox, CsatRating.rating).where(
            CsatRating.created_at >= since, CsatRating.created_at < until
        )
        return [(str(i), int(r)) for i, r in (await self.session.execute(stmt)).all()]

    async def csat_request(self, conversation_id: int) -> Message | None:
        """The newest CSAT question sent in a conversation."""
        stmt = (
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.kind == "outbound")
            .order_by(Message.id.desc())
            .limit(20)
        )
        for message in (await self.session.execute(stmt)).scalars().all():
            if (message.meta or {}).get("csat"):
                return message
        return None
