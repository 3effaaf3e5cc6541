"""Bulk lookups of an ingest batch: one query per kind of lookup for all of the batch's messages."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import raiseload

from storage.models import Contact, ContactIdentity, Conversation, Message
from storage.repo_base import RepositoryBase

__all__ = ["IngestRepository", "StoredMessages"]

_CHUNK = 500  # bound parameters per IN list, well inside SQLite's and PostgreSQL's limits
T = TypeVar("T")


def _chunks(values: Collection[T]) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass
class StoredMessages:
    """What ``IngestRepository.stored_messages`` found: stored keys and the conversations of refs."""

    fingerprints: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(channel, external id) → the stored message's ``meta[meta_key]`` (or None)"""
    conversations: dict[str, tuple[int, Conversation]] = field(default_factory=dict)
    """external message id → the newest such message's id and its conversation"""

    def add(
        self,
        channel: str,
        external_id: str,
        meta: Any,
        meta_key: str,
        message_id: int,
        conversation: Conversation,
    ) -> None:
        """Take one row (rows come in message id order: the newest message of an id wins)."""
        value = meta.get(meta_key) if isinstance(meta, dict) else None
        self.fingerprints[(channel, external_id)] = str(value) if value is not None else None
        self.conversations[external_id] = (message_id, conversation)

    def keep(self, keys: set[tuple[str, str]], refs: set[str]) -> None:
        """Drop what a row matched only through the other condition."""
        self.fingerprints = {k: v for k, v in self.fingerprints.items() if k in keys}
        self.conversations = {k: v for k, v in self.conversations.items() if k in refs}


class IngestRepository(RepositoryBase):
    """What ingest needs to know about a batch of inbound messages, fetched with a few IN queries."""

    async def stored_messages(
        self, keys: Collection[tuple[str, str]], refs: Collection[str], meta_key: str
    ) -> StoredMessages:
        """Which of ``keys`` (channel, external id) are stored, and the conversations of the message ids
        in ``refs``, read together: one query over ``messages`` per chunk instead of one per kind."""
        found = StoredMessages()
        key_chunks: list[list[tuple[str, str]]] = list(_chunks(keys))
        ref_chunks: list[list[str]] = list(_chunks(refs))
        for position in range(max(len(key_chunks), len(ref_chunks))):
            key_chunk = key_chunks[position] if position < len(key_chunks) else []
            ref_chunk = ref_chunks[position] if position < len(ref_chunks) else []
            wanted: list[ColumnElement[bool]] = []
            if key_chunk:
                wanted.append(tuple_(Message.channel, Message.external_id).in_(key_chunk))
            if ref_chunk:
                wanted.append(Message.external_id.in_(ref_chunk))
            stmt = (
                select(Message.channel, Message.external_id, Message.meta, Message.id, Conversation)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(or_(*wanted))
                .order_by(Message.id)
            )
            for channel, external_id, meta, message_id, conversation in (
                await self.session.execute(stmt)
            ).all():
                found.add(str(channel), str(external_id), meta, meta_key, int(message_id), conversation)
        found.keep(set(keys), set(refs))
        return found

    async def contacts_by_identities(
        self, identities: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], Contact]:
        """The contacts owning these (kind, value) identities; their identity lists are not loaded."""
        found: dict[tuple[str, str], Contact] = {}
        for chunk in _chunks(identities):
            stmt = (
                select(ContactIdentity.kind, ContactIdentity.value, Contact)
                .join(Contact, Contact.id == ContactIdentity.contact_id)
                .where(tuple_(ContactIdentity.kind, ContactIdentity.value).in_(chunk))
                .options(raiseload(Contact.identities))
            )
            for kind, value, contact in (await self.session.execute(stmt)).all():
                found[(kind, value)] = contact
        return found

    async def conversations_by_numbers(self, numbers: Collection[int]) -> dict[int, Conversation]:
        """Conversations by their numbers."""
        found: dict[int, Conversation] = {}
        for chunk in _chunks(numbers):
            stmt = select(Conversation).where(Conversation.number.in_(chunk))
            found.update((c.number, c) for c in (await self.session.execute(stmt)).scalars())
        return found

    async def latest_conversations(self, contact_ids: Sequence[int]) -> dict[tuple[int, str], Conversation]:
        """Each of these contacts' newest conversation per inbox."""
        found: dict[tuple[int, str], Conversation] = {}
        for chunk in _chunks(contact_ids):
            newest = (
                select(func.max(Conversation.id))
                .where(Conversation.contact_id.in_(chunk))
                .group_by(Conversation.contact_id, Conversation.inbox)
            )
            stmt = select(Conversation).where(Conversation.id.in_(newest))
            found.update(((c.contact_id, c.inbox), c) for c in (await self.session.execute(stmt)).scalars())
        return found
