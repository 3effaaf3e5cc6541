"""Whether a conversation's customer can be answered at all: a message without a sender address cannot."""

from __future__ import annotations

from bot.config import Settings
from bot.contacts import contact_address
from storage import UnitOfWork
from storage.models import Conversation

__all__ = ["no_address_refusal"]


async def no_address_refusal(uow: UnitOfWork, settings: Settings, conversation: Conversation) -> str | None:
    """Why a reply in ``conversation`` cannot be sent (its customer has no address), or None."""
    contact = await uow.contacts.contact(conversation.contact_id)
    if contact_address(settings, contact, conversation.channel):
        return None
    return (
        f"#{conversation.number} cannot be answered: the customer's message came without a sender "
        "address, so a reply has nowhere to go. Nothing was sent."
    )
