"""Which contact sent an inbound message: found by any of the sender's identities, created when none
matches; identities the channel newly names are linked to it, and two contacts that turn out to be
one person (a message names identities of both) are merged, the older one kept.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.contacts import merge_contacts
from bot.ingest.index import BatchIndex, identities_of
from bot.ports.inbound import InboundMessage
from bot.settings.core import InboxSettings
from storage import UnitOfWork
from storage.models import Contact

__all__ = ["sender_contact"]

log = logging.getLogger(__name__)


async def sender_contact(
    uow: UnitOfWork, index: BatchIndex, msg: InboundMessage, inboxes: dict[str, InboxSettings], now: datetime
) -> Contact:
    """The sender's contact, with every identity of ``msg`` linked to it."""
    identities = identities_of(msg, index.rules(msg.channel))
    contact = index.sender(msg)
    if contact is None:
        kind, value = identities[0]
        contact = uow.contacts.create_contact(msg.sender_name, kind, value, now)
        index.add_contact(identities[0], contact)
    elif msg.sender_name and not contact.name:
        contact.name = msg.sender_name
    for identity in identities:
        owner = index.contact(identity)
        if owner is None:
            uow.contacts.add_contact_identity(contact, *identity)
            index.add_contact(identity, contact)
        elif owner is not contact:
            contact = await _merge(uow, index, contact, owner, inboxes, now)
    return contact


async def _merge(
    uow: UnitOfWork,
    index: BatchIndex,
    one: Contact,
    other: Contact,
    inboxes: dict[str, InboxSettings],
    now: datetime,
) -> Contact:
    await uow.flush()  # a contact staged in this batch gets its id
    keep, gone = (one, other) if one.id < other.id else (other, one)
    await merge_contacts(uow, keep, gone, "Threadline", inboxes, now)
    index.merged(keep, gone)
    log.info("contacts merged: one sender, two identities", extra={"kept": keep.id, "merged": gone.id})
    return keep
