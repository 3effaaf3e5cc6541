"""A bounce of one of our replies, shown where it belongs: in the bounced reply's conversation.

The channel found which of our messages bounced (``InboundMessage.bounced_refs``) and why
(``extra["bounce_reason"]``); the reply is marked failed and its thread names the reply and
the reason. The bounce itself is stored in that conversation like any message.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.domain import DeliveryStatus, MessageKind
from bot.effects import Effects
from bot.outbox.failure_notices import preview
from bot.ports.inbound import InboundMessage
from storage import UnitOfWork

__all__ = ["record_bounce"]

_REASON_CHARS = 300


async def record_bounce(uow: UnitOfWork, settings: Settings, msg: InboundMessage, now: datetime) -> None:
    """Mark each of our replies ``msg`` reports as bounced failed, with a notice in its thread."""
    reason = (msg.extra.get("bounce_reason") or msg.subject or "delivery failure")[:_REASON_CHARS]
    prefix = settings.threadline.command_prefix
    for original in await uow.messages.messages_by_external_ids(msg.bounced_refs):
        if original.kind != MessageKind.OUTBOUND:
            continue
        original.delivery_status = DeliveryStatus.FAILED
        original.delivery_error = f"bounced: {reason}"
        conversation = await uow.conversations.conversation(original.conversation_id)
        effects = Effects(uow, conversation, settings.inbox(conversation.inbox), now)
        sent = f"{original.created_at:%Y-%m-%d %H:%M} UTC"
        await effects.notice(
            f"the reply by {original.author_name or 'an agent'} of {sent} "
            f"(“{preview(original.text)}”) bounced: {reason}. Check the address with the customer; "
            f"{prefix}retry sends the same reply again."
        )
