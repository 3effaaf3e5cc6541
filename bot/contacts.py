"""Customer profiles: identities, past conversations (status, labels, thread), first seen, pinned notes,
CSAT ratings; finding a contact by how agents name it; merging two contacts keeping all history.

``contact merge A B`` covers the same person writing from two channels: B's
addresses, conversations, pinned notes and audit entries move to A; B is deleted.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.config import Settings
from bot.effects import Effects
from bot.settings.core import InboxSettings
from storage import UnitOfWork
from storage.models import Contact, Conversation

__all__ = [
    "NO_ADDRESS",
    "NO_SENDER",
    "contact_address",
    "customer_label",
    "describe_profile",
    "find_contact",
    "merge_contacts",
]

NO_ADDRESS = "none"
"""The identity kind of a contact whose message came without a sender address (one per message)."""

NO_SENDER = "(no sender address)"
"""How a customer with neither a name nor an address is shown."""


def contact_address(settings: Settings, contact: Contact, channel: str) -> str:
    """The contact's address on a channel (of the identity kind its adapter declares), else any
    identity that is an address; "" for a customer whose message came without one."""
    kind = settings.channel_rules(channel).address_kind
    for identity in contact.identities:
        if identity.kind == kind:
            return identity.value
    addresses = [identity.value for identity in contact.identities if identity.kind != NO_ADDRESS]
    return addresses[0] if addresses else ""


def customer_label(name: str | None, address: str) -> str:
    """How a customer is named on cards, queues and posts: the name, else the address, else ``NO_SENDER``."""
    return name or address or NO_SENDER


_CONVERSATION = re.compile(r"^#(\d{1,12})$")
_CONTACT_ID = re.compile(r"^id:(\d{1,12})$", re.IGNORECASE)


async def find_contact(uow: UnitOfWork, ref: str) -> Contact | None:
    """The contact named by ``#42`` (its customer), an address, a phone number or ``id:17``."""
    if match := _CONVERSATION.match(ref):
        conversation = await uow.conversations.conversation_by_number(int(match.group(1)))
        return await uow.contacts.contact(conversation.contact_id) if conversation is not None else None
    if match := _CONTACT_ID.match(ref):
        return await uow.contacts.contact_or_none(int(match.group(1)))
    if "@" in ref:  # identity kinds name the shape of an address (email, phone), not a platform
        found = await uow.contacts.contact_by_identity("email", ref.strip().lower())
    else:
        digits = "".join(ch for ch in ref if ch.isdigit())
        found = await uow.contacts.contact_by_identity("phone", digits) if len(digits) >= 5 else None
    return await uow.contacts.contact(found.id) if found is not None else None


async def describe_profile(uow: UnitOfWork, conversation: Conversation) -> str:
    """The profile of ``conversation``'s customer as text (``profile`` and ``history``)."""
    contact = await uow.contacts.contact(conversation.contact_id)
    identities = " · ".join(f"{i.kind} {i.value}" for i in contact.identities) or "no addresses"
    lines = [
        f"{contact.name or 'Customer'} (contact id:{contact.id}) · first seen {contact.created_at:%Y-%m-%d}",
        f"addresses: {identities}",
    ]
    conversations = list(reversed(await uow.conversations.conversations_of(contact.id)))
    lines.append(f"conversations ({len(conversations)}):")
    for conv in conversations[:20]:
        labels = await uow.labels.labels_of(conv.id)
        rating = await uow.csat.rating_of(conv.id)
        parts = [
            f"#{conv.number}",
            conv.status,
            conv.channel,
            f"{conv.created_at:%Y-%m-%d}",
            f'"{conv.subject[:60]}"',
        ]
        if conv.priority != "normal":
            parts.append(conv.priority)
        if labels:
            parts.append("labels " + ", ".join(labels))
        if rating is not None:
            parts.append(f"rated {rating}/5")
        threads = await uow.threads.threads_of(conv.id)
        if threads:
            thread = threads[0]
            parts.append(f"thread {thread.surface}:{thread.chat_channel}/{thread.thread_id}")
        here = " ← this one" if conv.id == conversation.id else ""
        lines.append("  " + " · ".join(parts) + here)
    if len(conversations) > 20:
        lines.append(f"  … and {len(conversations) - 20} older")
    notes = await uow.contacts.contact_notes(contact.id)
    if notes:
        lines.append("pinned notes:")
        lines += [f"  {n.created_at:%Y-%m-%d} {n.author_name}: {n.text}" for n in notes]
    else:
        lines.append("no pinned notes (add one: note --contact TEXT)")
    return "\n".join(lines)


async def merge_contacts(
    uow: UnitOfWork,
    keep: Contact,
    other: Contact,
    actor: str,
    inboxes: dict[str, InboxSettings],
    now: datetime,
) -> list[int]:
    """Merge ``other`` into ``keep``; returns the numbers of the conversations that moved."""
    moved_ids = await uow.contacts.merge_contacts(keep, other)
    uow.audit.record(
        actor=actor,
        action="contact-merged",
        now=now,
        contact_id=keep.id,
        detail={"merged": other.id, "into": keep.id},
    )
    numbers = []
    for conversation_id in moved_ids:
        conv = await uow.conversations.conversation(conversation_id)
        numbers.append(conv.number)
        if conv.status != "closed":
            effects = Effects(uow, conv, inboxes[conv.inbox], now)
            await effects.event(
                actor, "contact-merged", f"customer merged into contact id:{keep.id} by {actor}"
            )
    return numbers
