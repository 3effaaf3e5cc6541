"""Repository reads of a claimed outbox batch: what its deliveries need, one statement per table.

The dispatcher's batch read (``bot.outbox.batch_read``) reads a claimed batch's conversations,
threads, messages, contacts, labels, accounts and attachments with ``IN`` lists instead of a few
statements per row (card fingerprints: ``uow.cards.fingerprints_of``; agents' names:
``uow.agents.agent_names``). Its outcomes are written together by ``uow.outbox.mark_delivered_many``,
``uow.threads.save_threads`` and ``uow.cards.save_fingerprints``.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from storage.models import (
    Attachment,
    Contact,
    Conversation,
    ConversationLabel,
    Label,
    Message,
    ThreadRow,
)
from storage.repo_base import RepositoryBase

__all__ = ["BatchReadRepository"]


class BatchReadRepository(RepositoryBase):
    """Reads of many outbox rows' context at once."""

    async def conversations_by_id(self, ids: Collection[int]) -> dict[int, Conversation]:
        """Conversations by id (one statement)."""
        if not ids:
            return {}
        stmt = select(Conversation).where(Conversation.id.in_(sorted(ids)))
        return {c.id: c for c in (await self.session.execute(stmt)).scalars().all()}

    async def threads_of_many(self, conversation_ids: Collection[int]) -> dict[tuple[int, str], ThreadRow]:
        """Every surface's thread of these conversations: (conversation id, surface) -> thread."""
        if not conversation_ids:
            return {}
        stmt = select(ThreadRow).where(ThreadRow.conversation_id.in_(sorted(conversation_ids)))
        return {(t.conversation_id, t.surface): t for t in (await self.session.execute(stmt)).scalars().all()}

    async def messages_by_id(self, ids: Collection[int]) -> dict[int, Message]:
        """Messages by id (one statement)."""
        if not ids:
            return {}
        stmt = select(Message).where(Message.id.in_(sorted(ids)))
        return {m.id: m for m in (await self.session.execute(stmt)).scalars().all()}

    async def contacts_by_id(self, ids: Collection[int]) -> dict[int, Contact]:
        """Contacts by id with their identities (two statements)."""
        if not ids:
            return {}
        stmt = (
            select(Contact)
            .where(Contact.id.in_(sorted(ids)))
            .options(selectinload(Contact.identities))
            .execution_options(populate_existing=True)
        )
        return {c.id: c for c in (await self.session.execute(stmt)).scalars().all()}

    async def labels_of_many(self, conversation_ids: Collection[int]) -> dict[int, list[str]]:
        """Each conversation's label names, sorted as ``labels_of`` sorts them; none: absent."""
        if not conversation_ids:
            return {}
        stmt = (
            select(ConversationLabel.conversation_id, Label.name)
            .join(Label, ConversationLabel.label_id == Label.id)
            .where(ConversationLabel.conversation_id.in_(sorted(conversation_ids)))
            .order_by(ConversationLabel.conversation_id, Label.key)
        )
        labels: dict[int, list[str]] = {}
        for conversation_id, name in (await self.session.execute(stmt)).all():
            labels.setdefault(int(conversation_id), []).append(str(name))
        return labels

    async def accounts_of_many(self, conversation_ids: Collection[int]) -> dict[int, str]:
        """The organisation (a Slack Connect team) each conversation's customer wrote from: the
        newest ``meta["account"]`` among its last 20 inbound messages; none: absent."""
        if not conversation_ids:
            return {}
        newest = (
            func.row_number()
            .over(partition_by=Message.conversation_id, order_by=Message.id.desc())
            .label("newest")
        )
        latest = (
            select(Message.conversation_id, Message.meta, newest)
            .where(Message.conversation_id.in_(sorted(conversation_ids)), Message.kind == "inbound")
            .subquery()
        )
        stmt = (
            select(latest.c.conversation_id, latest.c.meta)
            .where(latest.c.newest <= 20)
            .order_by(latest.c.conversation_id, latest.c.newest)
        )
        accounts: dict[int, str] = {}
        for conversation_id, meta in (await self.session.execute(stmt)).all():
            if int(conversation_id) not in accounts and meta and meta.get("account"):
                accounts[int(conversation_id)] = str(meta["account"])
        return accounts

    async def attachments_of_many(self, message_ids: Collection[int]) -> dict[int, list[Attachment]]:
        """Each message's attachments in order; a message without any: absent."""
        if not message_ids:
            return {}
        stmt = (
            select(Attachment).where(Attachment.message_id.in_(sorted(message_ids))).order_by(Attachment.id)
        )
        found: dict[int, list[Attachment]] = {}
        for attachment in (await self.session.execute(stmt)).scalars().all():
            found.setdefault(attachment.message_id, []).append(attachment)
        return found
