"""Repository reads of a claimed outbox batch: what its deliveries need, one statement per table.

The dispatcher's batch read (``bot.outbox.batch_read``) reads a claimed batch's conversations,
threads, messages, contacts, labels, accounts and attachments with ``IN`` lists instead of a few
statements per row (card fingerprints: ``uow.cards.fingerprints_of``; agents' names:
``uow.agents.agent_names``). Its outcomes are written together by ``uow.outbox.mark_delivered_many``,
``uow.threads.save_threads`` and ``uow.cards.save_fingerprints``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select
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

# Built once: a batch is read many times a second, and building a statement (its IN list, the
# subquery of the accounts) cost more Python time than running it. ``ids`` expands to the IN list.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_CONVERSATIONS = select(Conversation).where(Conversation.id.in_(_IDS))
_THREADS = select(ThreadRow).where(ThreadRow.conversation_id.in_(_IDS))
_MESSAGES = select(Message).where(Message.id.in_(_IDS))
_CONTACTS = (
    select(Contact)
    .where(Contact.id.in_(_IDS))
    .options(selectinload(Contact.identities))
    .execution_options(populate_existing=True)
)
_LABELS = (
    select(ConversationLabel.conversation_id, Label.name)
    .join(Label, ConversationLabel.label_id == Label.id)
    .where(ConversationLabel.conversation_id.in_(_IDS))
    .order_by(ConversationLabel.conversation_id, Label.key)
)
_NEWEST = (
    func.row_number().over(partition_by=Message.conversation_id, order_by=Message.id.desc()).label("newest")
)
_LATEST = (
    select(Message.conversation_id, Message.meta, _NEWEST)
    .where(Message.conversation_id.in_(_IDS), Message.kind == "inbound")
    .subquery()
)
_ACCOUNTS = (
    select(_LATEST.c.conversation_id, _LATEST.c.meta)
    .where(_LATEST.c.newest <= 20)
    .order_by(_LATEST.c.conversation_id, _LATEST.c.newest)
)
_ATTACHMENTS = select(Attachment).where(Attachment.message_id.in_(_IDS)).order_by(Attachment.id)


def _ids(ids: Collection[int]) -> dict[str, Any]:
    return {"ids": sorted(ids)}


class BatchReadRepository(RepositoryBase):
    """Reads of many outbox rows' context at once."""

    async def conversations_by_id(self, ids: Collection[int]) -> dict[int, Conversation]:
        """Conversations by id (one statement)."""
        if not ids:
            return {}
        return {c.id: c for c in (await self.session.execute(_CONVERSATIONS, _ids(ids))).scalars().all()}

    async def threads_of_many(self, conversation_ids: Collection[int]) -> dict[tuple[int, str], ThreadRow]:
        """Every surface's thread of these conversations: (conversation id, surface) -> thread."""
        if not conversation_ids:
            return {}
        found = (await self.session.execute(_THREADS, _ids(conversation_ids))).scalars().all()
        return {(t.conversation_id, t.surface): t for t in found}

    async def messages_by_id(self, ids: Collection[int]) -> dict[int, Message]:
        """Messages by id (one statement)."""
        if not ids:
            return {}
        return {m.id: m for m in (await self.session.execute(_MESSAGES, _ids(ids))).scalars().all()}

    async def contacts_by_id(self, ids: Collection[int]) -> dict[int, Contact]:
        """Contacts by id with their identities (two statements)."""
        if not ids:
            return {}
        return {c.id: c for c in (await self.session.execute(_CONTACTS, _ids(ids))).scalars().all()}

    async def labels_of_many(self, conversation_ids: Collection[int]) -> dict[int, list[str]]:
        """Each conversation's label names, sorted as ``labels_of`` sorts them; none: absent."""
        if not conversation_ids:
            return {}
        labels: dict[int, list[str]] = {}
        for conversation_id, name in (await self.session.execute(_LABELS, _ids(conversation_ids))).all():
            labels.setdefault(int(conversation_id), []).append(str(name))
        return labels

    async def accounts_of_many(self, conversation_ids: Collection[int]) -> dict[int, str]:
        """The organisation (a Slack Connect team) each conversation's customer wrote from: the
        newest ``meta["account"]`` among its last 20 inbound messages; none: absent."""
        if not conversation_ids:
            return {}
        accounts: dict[int, str] = {}
        for conversation_id, meta in (await self.session.execute(_ACCOUNTS, _ids(conversation_ids))).all():
            if int(conversation_id) not in accounts and meta and meta.get("account"):
                accounts[int(conversation_id)] = str(meta["account"])
        return accounts

    async def attachments_of_many(self, message_ids: Collection[int]) -> dict[int, list[Attachment]]:
        """Each message's attachments in order; a message without any: absent."""
        if not message_ids:
            return {}
        found: dict[int, list[Attachment]] = {}
        for attachment in (await self.session.execute(_ATTACHMENTS, _ids(message_ids))).scalars().all():
            found.setdefault(attachment.message_id, []).append(attachment)
        return found
