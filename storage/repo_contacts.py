"""Contacts: found by identity, created, merged, and the notes pinned to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload, raiseload

from storage.models import (
    AuditEvent,
    Contact,
    ContactIdentity,
    ContactNote,
    Conversation,
)
from storage.repo_base import RepositoryBase

__all__ = ["ContactRepository"]


class ContactRepository(RepositoryBase):
    """Contacts with their identities (an email address, a phone number) and pinned notes."""

    async def contact_by_identity(self, kind: str, value: str) -> Contact | None:
        """The contact owning an email address or phone number (its identities are not loaded)."""
        stmt = (
            select(Contact)
            .join(ContactIdentity)
            .where(ContactIdentity.kind == kind, ContactIdentity.value == value)
            .options(raiseload(Contact.identities))
        )
        return (await self.session.execute(stmt)).scalars().first()

    def create_contact(self, name: str | None, kind: str, value: str, now: datetime) -> Contact:
        """Stage a new contact with one identity (its id is known after the next flush)."""
        contact = Contact(name=name, created_at=now)
        contact.identities = [ContactIdentity(kind=kind, value=value)]
        self.session.add(contact)
        return contact

    def add_contact_identity(self, contact: Contact, kind: str, value: str) -> None:
        """Stage one more identity of a contact (stored, or staged in this unit of work)."""
        if contact.id is None:
            contact.identities.append(ContactIdentity(kind=kind, value=value))
        else:
            self.session.add(ContactIdentity(contact_id=contact.id, kind=kind, value=value))

    async def contact(self, contact_id: int) -> Contact:
        """A contact by id, with its identities."""
        stmt = (
            select(Contact)
            .where(Contact.id == contact_id)
            .options(joinedload(Contact.identities))
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).unique().scalar_one()

    async def contact_of(self, conversation: Conversation) -> Contact:
        """A conversation's contact with its identities; a contact staged in this unit of work as staged."""
        if conversation.contact_id is None:
            return conversation.contact
        return await self.contact(conversation.contact_id)

    async def contact_or_none(self, contact_id: int) -> Contact | None:
        """A contact by id, or None."""
        stmt = select(Contact.id).where(Contact.id == contact_id)
        if (await self.session.execute(stmt)).first() is None:
            return None
        return await self.contact(contact_id)

    async def merge_contacts(self, keep: Contact, gone: Contact) -> list[int]:
        """Move everything of ``gone`` to ``keep`` and delete ``gone``; the moved conversation ids."""
        moved = list(
            (await self.session.execute(select(Conversation.id).where(Conversation.contact_id == gone.id)))
            .scalars()
            .all()
        )
        await self.session.execute(
            update(Conversation).where(Conversation.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(ContactIdentity).where(ContactIdentity.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(ContactNote).where(ContactNote.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(AuditEvent).where(AuditEvent.contact_id == gone.id).values(contact_id=keep.id)
        )
        if not keep.name and gone.name:
            keep.name = gone.name
        if gone.created_at < keep.created_at:
            keep.created_at = gone.created_at
        await self.session.flush()
        await self.session.execute(delete(Contact).where(Contact.id == gone.id))
        return [int(i) for i in moved]

    def add_contact_note(self, contact_id: int, author: str, text: str, now: datetime) -> None:
        """Pin a note to a contact."""
        self.session.add(ContactNote(contact_id=contact_id, author_name=author, text=text, created_at=now))

    async def contact_notes(self, contact_id: int) -> list[ContactNote]:
        """A contact's pinned notes, oldest first."""
        stmt = select(ContactNote).where(ContactNote.contact_id == contact_id).order_by(ContactNote.id)
        return list((await self.session.execute(stmt)).scalars().all())
