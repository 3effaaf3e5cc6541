"""The away message: one automatic acknowledgement to a customer who writes outside business hours.

Sent at most once per conversation per local day (deduplicated with a processed
event key in the same transaction), never to auto-replies, bounces or list mail,
and marked ``auto_submitted`` so email adds ``Auto-Submitted: auto-replied``. It
does not count as the first response.
"""

from __future__ import annotations

from datetime import datetime

from bot.effects import Effects
from bot.settings.core import InboxSettings
from bot.sla.policy import calendar_for
from storage import UnitOfWork
from storage.models import Conversation

__all__ = ["AWAY_AUTHOR", "maybe_send_away"]

AWAY_AUTHOR = "Threadline (away message)"


async def maybe_send_away(
    uow: UnitOfWork, conversation: Conversation, inbox: InboxSettings, auto_kind: str | None, now: datetime
) -> bool:
    """Queue the inbox's away message when it applies; True when one was queued."""
    if inbox.away_message is None or auto_kind is not None or inbox.business_hours is None:
        return False
    calendar = calendar_for(inbox)
    if calendar.is_open(now):
        return False
    local_day = now.astimezone(calendar.zone).date().isoformat()
    await uow.flush()  # a conversation staged in this ingest batch gets its id
    if not await uow.cursors.first_time(f"away:{conversation.id}:{local_day}", now):
        return False
    opening = calendar.next_open(now).astimezone(calendar.zone)
    text = inbox.away_message.replace("{next_open}", f"{opening:%A %d %B %H:%M} ({calendar.zone.key})")
    await Effects(uow, conversation, inbox, now).send_automatic(AWAY_AUTHOR, text)
    return True
