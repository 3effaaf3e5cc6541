"""Bulk lookups of an ingest batch: one query per kind of lookup for all of the batch's messages."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import raiseload

from storage.models import Contact, ContactIdentity, Conversation, Message
from storage.repo_base import RepositoryBase

__all__ = ["IngestRepository"]

_CHUNK = 500  # bound parameters per IN list, well inside SQLite's and PostgreSQL's limits
T = TypeVar("T")


def _chunks(values: Collection[T]) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class IngestRepository(RepositoryBase):
    """What ingest needs to know about a batch of inbound messages, fetched with a few IN queries."""

    async def stored_fingerprints(
        self, keys: Collection[tuple[str, str]], meta_key: str
    ) -> dict[tuple[str, str], str | None]:
        """The stored (channel, external id) pairs among ``keys``, each with ``meta[meta_key]`` (or None)."""
        found: dict[tuple[str, str], str | None] = {}
        for chunk in _chunks(keys):
            stmt = select(Message.channel, Message.external_id, Message.meta).where(
                tuple_(Message.channel, Message.external_id).in_(chunk)
            )
            for channel, external_id, meta in (await self.session.execute(stmt)).all():
                value = meta.get(meta_key) if isinstance(meta, dict) else None
                found[(str(channel), str(external_id))] = str(value) if value is not None else None
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

    async def conversations_by_message_ids(
        self, external_ids: Collection[str]
    ) -> dict[str, tuple[int, Conversation]]:
        """For each external message id stored: the newest such message's id and its conversation."""
        found: dict[str, tuple[int, Conversation]] = {}
        for chunk in _chunks(external_ids):
            stmt = (
                select(Message.external_id, Message.id, Conversation)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.external_id.in_(chunk))
                .order_by(Message.id)
            )
            for external_id, message_id, conversation in (await self.session.execute(stmt)).all():
                found[str(external_id)] = (int(message_id), conversation)  # ordered: the newest wins
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
