"""Delivery statuses reported by a channel (WhatsApp ``sent|delivered|read|failed``), applied in the core.

A status only ever moves forward (a late ``delivered`` never hides a ``read``);
``failed`` always wins and makes the reply retryable. The thread stays compact:
only ``read`` and ``failed`` get a line, ``sent``/``delivered`` just update the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from bot.clock import Clock
from bot.config import Settings
from bot.domain import DeliveryStatus, MessageKind
from bot.effects import Effects
from bot.outbox.failure_notices import preview, reply_failed
from bot.ports import Remedy
from storage import Store

__all__ = ["STATUS_RANK", "DeliveryStatusService", "StatusOutcome"]

log = logging.getLogger(__name__)

STATUS_RANK: dict[str, int] = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}
"""Order of the non-failure statuses; a status never moves backwards."""


class StatusOutcome(StrEnum):
    """What applying a receipt did; only ``unknown_message`` is worth trying again a little later."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    UNKNOWN_MESSAGE = "unknown_message"
    UNKNOWN_STATUS = "unknown_status"


class DeliveryStatusService:
    """Applies channel delivery receipts to stored outbound messages and shows what matters."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify

    async def apply(
        self,
        channel: str,
        external_id: str,
        status: str,
        error: str | None = None,
        remedy: Remedy = "retry",
    ) -> StatusOutcome:
        """Record ``status`` for the outbound message known by ``external_id``; for a failure,
        ``remedy`` says what the notice suggests.

        Unknown ids (a status for a message sent elsewhere, or one that arrives before
        the send was recorded: the channel may try again) and unknown statuses change nothing.
        """
        if status != DeliveryStatus.FAILED and status not in STATUS_RANK:
            log.info("unknown delivery status ignored", extra={"channel": channel, "status": status[:30]})
            return StatusOutcome.UNKNOWN_STATUS
        now = self.clock.now()
        async with self.store.transaction() as uow:
            message = await uow.messages.message_by_external_id(channel, external_id)
            if message is None or message.kind != MessageKind.OUTBOUND:
                log.info("status for an unknown message", extra={"channel": channel, "status": status})
                return StatusOutcome.UNKNOWN_MESSAGE
            current = message.delivery_status or DeliveryStatus.PENDING
            if status == current or (
                status != DeliveryStatus.FAILED and STATUS_RANK.get(current, 99) >= STATUS_RANK[status]
            ):
                return StatusOutcome.UNCHANGED
            failure = error if status == DeliveryStatus.FAILED else None
            await uow.messages.set_delivery_status(message, status, failure)
            conversation = await uow.conversations.conversation(message.conversation_id)
            effects = Effects(uow, conversation, self.settings.inbox(conversation.inbox), now)
            if status == DeliveryStatus.FAILED:
                await effects.notice(
                    reply_failed(
                        self.settings, channel, message.author_name, message.text, error or "", remedy
                    )
                )
            elif status == DeliveryStatus.READ:
                await effects.notice(f"✓✓ read by the customer: “{preview(message.text)}”")
        self.notify()
        log.info(
            "delivery status applied",
            extra={"channel": channel, "status": status, "conversation": conversation.number},
        )
        return StatusOutcome.APPLIED
