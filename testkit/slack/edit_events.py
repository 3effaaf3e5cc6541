"""Events API ``message`` events of an edit and a deletion, in the shapes Slack documents.

``message_changed``: ``message`` is the message as it is now (same ``ts``, an ``edited`` stamp),
``previous_message`` as it was, ``hidden: true``
(https://docs.slack.dev/reference/events/message/message_changed/).
``message_deleted``: ``deleted_ts`` names the message, ``previous_message`` is what it said
(https://docs.slack.dev/reference/events/message/message_deleted/).
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from testkit.slack.payloads import as_slack_sends, event_request


def _message(text: str, user: str, ts: str, thread_ts: str | None) -> dict[str, Any]:
    message = {"type": "message", "user": user, "text": as_slack_sends(text), "ts": ts}
    return {**message, "thread_ts": thread_ts} if thread_ts else message


def message_changed(
    *,
    ts: str,
    thread_ts: str | None,
    before: str,
    after: str,
    user: str = "UALICE",
    channel: str = "C_SUPPORT",
    channel_type: str = "channel",
) -> AsyncBoltRequest:
    """``user`` edited their message ``ts`` (a reply when ``thread_ts`` is given): ``before`` → ``after``."""
    edited_at = f"{time.time():.6f}"
    now = {**_message(after, user, ts, thread_ts), "edited": {"user": user, "ts": edited_at}}
    return event_request(
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": channel,
            "channel_type": channel_type,
            "ts": edited_at,
            "event_ts": edited_at,
            "message": now,
            "previous_message": _message(before, user, ts, thread_ts),
        }
    )


def message_deleted(
    *, ts: str, thread_ts: str, before: str, user: str = "UALICE", channel: str = "C_SUPPORT"
) -> AsyncBoltRequest:
    """The thread reply ``ts`` (it said ``before``) was deleted."""
    deleted_at = f"{time.time():.6f}"
    return event_request(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": channel,
            "channel_type": "channel",
            "ts": deleted_at,
            "event_ts": deleted_at,
            "deleted_ts": ts,
            "previous_message": _message(before, user, ts, thread_ts),
        }
    )
