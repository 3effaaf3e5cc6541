"""Effects of a change, written in the same transaction: audit rows, thread events and outbox rows.

Nothing here talks to a platform; the outbox dispatcher delivers what is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain import DeliveryStatus, MessageKind
from bot.settings.core import InboxSettings
from storage import UnitOfWork
from storage.models import Conversation, Message

__all__ = [
    "CARD",
    "CHANNEL_POST",
    "DIGEST",
    "NOTICE",
    "POST",
    "QUEUE_VIEW",
    "REDACT",
    "SEND",
    "Effects",
    "channel_destination",
    "surface_destination",
]

CARD = "card"
POST = "post"
NOTICE = "notice"
SEND = "send"
CHANNEL_POST = "channel_post"  # a notice to a chat channel outside the thread (SLA escalation)
REDACT = "redact"  # delete a mirrored post of a forgotten contact from its thread
DIGEST = "digest"  # a digest posted to a chat channel; the row belongs to no conversation
QUEUE_VIEW = "queue_view"  # a queue shown to a user or in a channel; no conversation, the newest wins


def surface_destination(surface: str) -> str:
    """The outbox destination of a surface."""
    return f"surface:{surface}"


def channel_destination(channel: str) -> str:
    """The outbox destination of a customer channel."""
    return f"channel:{channel}"


class Effects:
    """Writes the visible consequences of a change for one conversation."""

    def __init__(
        self, uow: UnitOfWork, conversation: Conversation, inbox: InboxSettings, now: datetime
    ) -> None:
        self.uow = uow
        self.conversation = conversation
        self.inbox = inbox
        self.now = now

    async def card_changed(self) -> None:
        """Re-render the card (coalesced with an identical waiting row)."""
        await self.uow.outbox.enqueue(
            self.conversation, surface_destination(self.inbox.surface), CARD, self.now, coalesce=True
        )

    async def show(self, message: Message) -> None:
        """Mirror a message (stored, or staged in this unit of work) into the thread."""
        await self.uow.outbox.enqueue(
            self.conversation,
            surface_destination(self.inbox.surface),
            POST,
            self.now,
            message=message,
        )

    async def notice(self, text: str, *, undo: bool = False) -> None:
        """Show a system notice in the thread (delivery failures, warnings); ``undo``: with an Undo button."""
        payload: dict[str, Any] = {"text": text, "undo": True} if undo else {"text": text}
        await self.uow.outbox.enqueue(
            self.conversation,
            surface_destination(self.inbox.surface),
            NOTICE,
            self.now,
            payload=payload,
        )

    async def redact(self, surface: str, chat_channel: str, thread_id: str, item_id: str) -> None:
        """Delete the mirrored post ``item_id`` (the id, or joined ids, the surface returned) from the
        thread ``thread_id`` on ``surface``: where it was posted, which may no longer be the inbox's."""
        await self.uow.outbox.enqueue(
            self.conversation,
            surface_destination(surface),
            REDACT,
            self.now,
            payload={"chat_channel": chat_channel, "thread_id": thread_id, "item_id": item_id},
        )

    async def send(self, message: Message, *, hold: timedelta | None = None) -> None:
        """Deliver an outbound message (stored, or staged in this unit of work) to the customer;
        ``hold`` keeps it in the outbox that long first (the undo window)."""
        await self.uow.outbox.enqueue(
            self.conversation,
            channel_destination(self.conversation.channel),
            SEND,
            self.now,
            message=message,
            due=self.now + hold if hold else None,
        )

    async def send_automatic(self, author: str, text: str, **meta: Any) -> None:
        """Send the customer an automatic message (survey, thanks, away message, rule reply).

        It is marked auto-submitted, which the email sender turns into ``Auto-Submitted``.
        """
        message = self.uow.messages.new_message(
            self.conversation,
            MessageKind.OUTBOUND,
            self.now,
            channel=self.conversation.channel,
            author_name=author,
            text=text,
            delivery_status=DeliveryStatus.PENDING,
            meta={"auto_submitted": True, **meta},
        )
        await self.send(message)

    async def event(self, actor: str, action: str, text: str, detail: dict[str, Any] | None = None) -> None:
        """Record an audit event, show it in the thread and refresh the card."""
        self.uow.audit.record(
            actor=actor,
            action=action,
            now=self.now,
            conversation=self.conversation,
            detail=detail,
        )
        message = self.uow.messages.new_message(
            self.conversation, MessageKind.EVENT, self.now, author_name=actor, text=text
        )
        self.conversation.updated_at = self.now
        await self.show(message)
        await self.card_changed()
