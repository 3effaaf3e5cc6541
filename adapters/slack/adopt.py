"""Posts after a crash are not duplicated: every Slack message Threadline posts carries its outbox id.

Each card and thread message is posted with message metadata
(https://docs.slack.dev/messaging/message-metadata: ``event_type`` a string, ``event_payload`` an
object) ``{"event_type": "threadline_outbox", "event_payload": {"outbox_id": N, "kind": K, "part": i}}``
(``kind`` "card", "post" or "channel" for a notice outside threads: one row can post a card and
then the first post in its thread). Before
re-posting a row that was claimed before (an attempt may have posted and died before it was
recorded), the surface reads the thread (``conversations.replies``) or, for a card, the channel's
recent history (``conversations.history``), both with ``include_all_metadata=true`` (without it Slack
returns no metadata), and adopts the ``ts`` of what it finds instead of posting again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.views import DeliveryKey

__all__ = ["EVENT_TYPE", "metadata", "posted_card", "posted_parts"]

log = logging.getLogger(__name__)

EVENT_TYPE = "threadline_outbox"
_LOOKBACK = 200  # messages read back: what one instance can have posted to a channel since it died


def metadata(key: DeliveryKey | None, kind: str, part: int = 0) -> dict[str, Any] | None:
    """The ``metadata`` argument of ``chat.postMessage`` for part ``part`` of a delivery's card or post."""
    if key is None:
        return None
    payload = {"outbox_id": key.outbox_id, "kind": kind, "part": part}
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def _parts_of(messages: list[dict[str, Any]], key: DeliveryKey, kind: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for message in messages:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if (
            meta.get("event_type") == EVENT_TYPE
            and payload.get("outbox_id") == key.outbox_id
            and payload.get("kind") == kind
        ):
            found.setdefault(int(payload.get("part", 0)), str(message["ts"]))
    return found


async def posted_parts(
    client: AsyncWebClient, channel: str, thread_ts: str, key: DeliveryKey
) -> dict[int, str]:
    """The parts of delivery ``key`` already in the thread: part number -> ts (empty when unreadable)."""
    try:
        answer = await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=_LOOKBACK
        )
    except Exception as exc:  # cannot check: post (at-least-once), never lose the post
        log.warning("slack thread not readable before a re-post", extra={"error": exc.__class__.__name__})
        return {}
    return _parts_of(list(answer.get("messages") or []), key, "post")


async def posted_card(
    client: AsyncWebClient, channel: str, key: DeliveryKey, kind: str = "card"
) -> str | None:
    """The ts of the card (or ``kind`` "channel": channel notice) delivery ``key`` already posted at
    the top of ``channel``, if any."""
    try:
        answer = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=_LOOKBACK
        )
    except Exception as exc:
        log.warning("slack channel not readable before a re-post", extra={"error": exc.__class__.__name__})
        return None
    return _parts_of(list(answer.get("messages") or []), key, kind).get(0)
