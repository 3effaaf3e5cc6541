"""Naming the message a customer quotes or reacts to: the thread says what "👍" or "which day?" is about."""

from __future__ import annotations

from bot.outbox.failure_notices import preview
from bot.ports.inbound import InboundMessage
from storage import UnitOfWork

__all__ = ["shown_text"]

_UNKNOWN = "a message Threadline does not have"


async def shown_text(uow: UnitOfWork, msg: InboundMessage) -> str:
    """The text to store for ``msg``: a reaction names what it reacts to, a quote starts with what it
    quotes."""
    ref = msg.reacts_to or msg.quotes
    if ref is None:
        return msg.text
    found = await uow.messages.message_by_external_id(msg.channel, ref)
    named = f"{found.author_name or 'someone'}'s “{preview(found.text)}”" if found is not None else _UNKNOWN
    if msg.reacts_to is not None:
        return f"{msg.text} to {named}"
    return f"↩ replying to {named}\n{msg.text}"
