"""What a delivery's outcome changes in the database (used by the outbox dispatcher).

A reply that reached the customer is marked sent, counts as a response for the
SLA, is echoed in the thread and refreshes the card; a delivery given up is shown
in the thread with its reason and what to do.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot import lifecycle
from bot.config import Settings
from bot.domain import DeliveryStatus
from bot.effects import CARD, POST, SEND, Effects
from bot.outbox.failure_notices import reply_failed
from bot.outbox.send_records import unused_external_id
from bot.ports import DeliveryError, PermanentDeliveryError
from bot.settings.core import OutboxSettings
from bot.views import CardView
from storage import UnitOfWork
from storage.models import OutboxRow

__all__ = ["card_fingerprint", "hand_back", "record_sent", "retry_delay", "show_failure"]


def card_fingerprint(card: CardView) -> str:
    """A short digest of everything a card shows (an edit with the same fingerprint changes nothing)."""
    return hashlib.sha256(repr(card).encode()).hexdigest()[:32]


async def record_sent(
    uow: UnitOfWork, settings: Settings, row: OutboxRow, external: str | None, now: datetime
) -> None:
    """A ``send`` row was delivered: store the external id, update SLA clocks, echo it, refresh the card."""
    assert row.message_id is not None and row.conversation_id is not None
    message = await uow.messages.message(row.message_id)
    conversation = await uow.conversations.conversation(row.conversation_id)
    inbox = settings.inbox(conversation.inbox)
    effects = Effects(uow, conversation, inbox, now)
    message.external_id = await unused_external_id(uow, message, external, effects)
    message.delivery_status = DeliveryStatus.SENT
    message.delivery_error = None
    if not (message.meta or {}).get("auto_submitted"):  # an away message is no response
        lifecycle.replied(conversation, inbox, now)
    await effects.show(message)
    await effects.card_changed()


async def show_failure(
    uow: UnitOfWork, settings: Settings, row: OutboxRow, error: DeliveryError, now: datetime
) -> None:
    """A row was given up: mark a reply failed and say so in the thread (with how to retry).

    A row about no conversation (a digest) has no thread to say it in; the log says it."""
    if row.conversation_id is None:
        return
    conversation = await uow.conversations.conversation(row.conversation_id)
    effects = Effects(uow, conversation, settings.inbox(conversation.inbox), now)
    if row.kind == SEND and row.message_id is not None:
        message = await uow.messages.message(row.message_id)
        message.delivery_status = DeliveryStatus.FAILED
        message.delivery_error = error.reason[:2000]
        gave_up = not isinstance(error, PermanentDeliveryError)
        await effects.notice(
            reply_failed(
                settings,
                conversation.channel,
                message.author_name,
                message.text,
                error.reason,
                error.remedy,
                gave_up=gave_up,
            )
        )
    elif row.kind in (POST, CARD):
        await effects.notice(f"Threadline could not update this thread: {error.reason.rstrip('.')}.")


def retry_delay(outbox: OutboxSettings, attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the platform's ``Retry-After``, else exponential backoff."""
    if retry_after is not None:
        return retry_after
    return min(outbox.backoff_max_seconds, outbox.backoff_base_seconds * 2 ** max(0, attempts - 1))


async def hand_back(uow: UnitOfWork, row_id: int, now: datetime) -> None:
    """Undo a claim that was never acted on: the row is due again now and the attempt does not count."""
    stored = await uow.outbox.outbox_row(row_id)
    stored.attempts = max(0, stored.attempts - 1)
    stored.next_attempt_at = now
