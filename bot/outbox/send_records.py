"""Send records: what the outbox already sent of an outbound message, kept in the database.

``StoredParts`` is the ``SentParts`` a channel sender gets: each part the transport accepts is
committed at once (``send_records``), so a retry after a crash or restart sends only the parts
that are missing (a long WhatsApp reply) or nothing (an email already accepted by the SMTP
server). ``unused_external_id`` refuses an external id another message already carries (a
wamid collision): the reply is recorded as sent without it and the thread is told why, instead of
the row failing to commit and the reply going out again at every retry. ``keyed`` labels a card
or post with its outbox row, so a surface can find what an earlier attempt posted (Slack metadata,
Discord's nonce) instead of posting it twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar, overload

from bot.clock import Clock
from bot.effects import Effects
from bot.views import CardView, DeliveryKey, PostView
from storage import Store, UnitOfWork
from storage.models import Message, OutboxRow

__all__ = ["StoredParts", "keyed", "unused_external_id"]

View = TypeVar("View", CardView, PostView)


@overload
def keyed(row: OutboxRow, view: View) -> View: ...
@overload
def keyed(row: OutboxRow, view: None) -> None: ...
def keyed(row: OutboxRow, view: View | None) -> View | None:
    """``view`` labelled with the row it delivers (``DeliveryKey``); ``retried`` when the row was claimed
    before this claim (every claim counts an attempt; a rate limit or a hand-back gives it back)."""
    if view is None:
        return None
    return replace(view, delivery=DeliveryKey(row.id, retried=row.attempts > 1, queued_at=row.created_at))


class StoredParts:
    """The sent parts of one message, read from and written to the database (``bot.ports.SentParts``)."""

    def __init__(self, store: Store, clock: Clock, message_id: int, parts: dict[int, str]) -> None:
        self.store = store
        self.clock = clock
        self.message_id = message_id
        self.parts = dict(parts)

    def sent(self, part: int) -> str | None:
        """The external id part ``part`` was sent with, or None."""
        return self.parts.get(part)

    async def record(self, part: int, external_id: str) -> None:
        """Commit that part ``part`` went out as ``external_id`` (before anything else is sent)."""
        async with self.store.transaction() as uow:
            await uow.sends.record_part(self.message_id, part, external_id, self.clock.now())
        self.parts[part] = external_id


async def unused_external_id(
    uow: UnitOfWork, message: Message, external: str | None, effects: Effects
) -> str | None:
    """``external`` when no other message of the channel carries it; else None, and a thread notice."""
    if external is None or message.channel is None:
        return external
    other = await uow.sends.message_with_external_id(message.channel, external)
    if other is None or other == message.id:
        return external
    await effects.notice(
        f"The reply was sent, but {message.channel} answered with id {external}, which an earlier "
        "message already has; Threadline keeps the reply without it, so its delivery receipts "
        "will not show here. Nothing is sent again."
    )
    return None
