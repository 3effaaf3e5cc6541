"""Labels and which conversations carry them."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, and_, func, select

from storage.models import (
    Conversation,
    ConversationLabel,
    Label,
)
from storage.repo_base import RepositoryBase

__all__ = ["LabelRepository"]

_CONVERSATION_LABELS = cast(Table, ConversationLabel.__table__)


class LabelRepository(RepositoryBase):
    """Labels by name, a conversation's labels, and how many open conversations carry each."""

    async def labels_of(self, conversation_id: int) -> list[str]:
        """A conversation's label names, sorted."""
        stmt = (
            select(Label.name)
            .join(ConversationLabel, ConversationLabel.label_id == Label.id)
            .where(ConversationLabel.conversation_id == conversation_id)
            .order_by(Label.key)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def label(self, name: str, *, create: bool) -> Label | None:
        """The label named ``name`` (case-insensitive), created on first use when ``create``."""
        key = name.lower()
        found = (await self.session.execute(select(Label).where(Label.key == key))).scalars().first()
        if found is None and create:
            found = Label(key=key, name=name)
            self.session.add(found)
            await self.session.flush()
        return found

    async def set_label(self, conversation: Conversation, label_id: int, present: bool) -> bool:
        """Add or remove a label; True when something changed.

        A conversation staged in this unit of work carries no stored label: adding one stages its
        row (written with the conversation at the flush), removing one changes nothing.
        """
        if conversation.id is None:
            if present:
                self.session.stage(_CONVERSATION_LABELS, {"label_id": label_id}, conversation_id=conversation)
            return present
        exists = (
            (
                await self.session.execute(
                    select(ConversationLabel).where(
                        ConversationLabel.conversation_id == conversation.id,
                        ConversationLabel.label_id == label_id,
                    )
                )
            )
            .scalars()
            .first()
        )
        if present and exists is None:
            self.session.add(ConversationLabel(conversation_id=conversation.id, label_id=label_id))
            return True
        if not present and exists is not None:
            await self.session.delete(exists)
            return True
        return False

    async def label_usage(self) -> list[tuple[str, int]]:
        """Every label with the number of open conversations carrying it."""
        stmt = (
            select(Label.name, func.count(Conversation.id))
            .outerjoin(ConversationLabel, ConversationLabel.label_id == Label.id)
            .outerjoin(
                Conversation,
                and_(Conversation.id == ConversationLabel.conversation_id, Conversation.status != "closed"),
            )
            .group_by(Label.id, Label.name)
            .order_by(Label.key)
        )
        return [(name, int(count)) for name, count in (await self.session.execute(stmt)).all()]
