"""Delivery lanes: the outbox rows that add a message to one chat channel go out one after another.

A chat channel shows messages in the order they were posted, so cards and posts of different
conversations in one channel must not overtake each other: rows of a lane are delivered in
arrival (id) order, and a row that has to wait (a 429's ``Retry-After``, an outage's backoff)
holds the rest of its lane until it is due again. Card edits change a message in place and
replies to customers go to another destination: each is a lane of its own. Holds live in the
process that delivers; rows of a lane claimed by another instance are ordered by that instance.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.effects import CARD, CHANNEL_POST, DIGEST, REDACT
from storage.models import OutboxRow
from storage.unit_of_work import UnitOfWork

__all__ = ["Lanes", "lane_key"]


async def lane_key(repo: UnitOfWork, settings: Settings, row: OutboxRow) -> str | None:
    """The chat channel a row adds a message to (``surface:slack:C123``), or None when it adds none."""
    if not row.destination.startswith("surface:"):
        return None
    if row.kind in (CHANNEL_POST, DIGEST):
        return f"{row.destination}:{row.payload.get('chat_channel', '')}"
    if row.kind == REDACT or row.conversation_id is None:
        return None  # a deletion adds no message
    surface = row.destination.partition(":")[2]
    if row.kind == CARD and await repo.threads.thread_of(row.conversation_id, surface) is not None:
        return None  # an edit in place
    conversation = await repo.conversations.conversation(row.conversation_id)
    inbox = settings.inboxes.get(conversation.inbox)
    return f"{row.destination}:{inbox.chat_channel}" if inbox is not None else None  # the delivery says why


class Lanes:
    """Remembers, per lane, the first row that has to wait and until when."""

    def __init__(self) -> None:
        self._holds: dict[str, tuple[int, datetime]] = {}

    def hold(self, key: str | None, row_id: int, until: datetime) -> None:
        """Row ``row_id`` of lane ``key`` is due again at ``until``; later rows of the lane wait for it."""
        if key is not None:
            held = self._holds.get(key)
            if held is None or row_id <= held[0]:
                self._holds[key] = (row_id, until)

    def held(self, key: str | None, row_id: int, now: datetime) -> datetime | None:
        """Until when row ``row_id`` must wait for an earlier row of its lane; None when it may go now."""
        held = self._holds.get(key) if key is not None else None
        if held is None:
            return None
        held_id, until = held
        if row_id == held_id or until <= now:
            del self._holds[key]  # type: ignore[arg-type]
            return None
        return until if row_id > held_id else None
