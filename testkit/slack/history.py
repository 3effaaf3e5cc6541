"""Message metadata and reading messages back, as the fake Slack does them (used by ``FakeSlack``).

Message metadata (https://docs.slack.dev/messaging/message-metadata and
https://api.slack.com/metadata/using): ``metadata`` is an object with ``event_type``, a string, and
``event_payload``, an object (its values strings, numbers, booleans, or objects / arrays of objects
of those). ``chat.postMessage`` refuses anything else (https://docs.slack.dev/reference/methods/chat.postMessage,
"Errors": ``invalid_metadata_format`` for metadata that is not such an object, ``invalid_metadata_schema``
for a missing or mistyped field). An ``event_type`` holds letters, digits, underscores and hyphens
only; Slack posts a message whose ``event_type`` breaks that with an ``invalid_metadata_schema``
*warning* and drops its metadata ("Defining metadata" in the first page). The fake refuses it, and an
empty one, instead: stricter, so code that would lose its outbox id in Slack fails in the tests.
``conversations.replies`` (https://docs.slack.dev/reference/methods/conversations.replies) returns the
parent and its replies oldest first; its ``ts`` is "a thread's parent message or a message in the
thread" (a message with no replies of its own comes back alone, with its ``thread_ts`` when it is a
reply), and a ``ts`` of no message is ``thread_not_found``; ``conversations.history``
(https://docs.slack.dev/reference/methods/conversations.history) the channel's top-level messages
newest first, ``limit`` of them (default 100), at or after ``oldest``. Both return a message's
``metadata`` only when ``include_all_metadata`` is true ("Return all metadata associated with
messages. Defaults to false").
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["history", "metadata_error", "replies"]

_SCALARS = (str, int, float, bool)

_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+")
"""What an ``event_type`` may hold (message metadata docs, "Defining metadata")."""


def _flat(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, _SCALARS) for v in value.values())


def _payload_value(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list):
        return all(_flat(item) for item in value)
    return _flat(value)


def metadata_error(args: dict[str, Any]) -> str | None:
    """Slack's refusal of a message's ``metadata`` argument, or None (also when there is none)."""
    meta = args.get("metadata")
    if meta is None:
        return None
    if isinstance(meta, str):  # a form-encoded call sends it as a JSON string
        try:
            meta = json.loads(meta)
        except ValueError:
            return "invalid_metadata_format"
        args["metadata"] = meta
    if not isinstance(meta, dict):
        return "invalid_metadata_format"
    event_type, payload = meta.get("event_type"), meta.get("event_payload")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        return "invalid_metadata_schema"
    if not isinstance(payload, dict):
        return "invalid_metadata_schema"
    if set(meta) - {"event_type", "event_payload"}:
        return "invalid_metadata_schema"
    if not all(isinstance(k, str) and _payload_value(v) for k, v in payload.items()):
        return "invalid_metadata_schema"
    return None


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _shown(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k not in ("token", "metadata")}
    if with_metadata and message.get("metadata") is not None:
        shown["metadata"] = message["metadata"]
    return shown


def replies(messages: dict[str, dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """``conversations.replies``: the thread of ``ts`` in ``channel``, oldest first."""
    channel, ts = str(args.get("channel")), str(args.get("ts"))
    parent = messages.get(ts)
    if parent is None or parent["channel"] != channel:
        return {"ok": False, "error": "thread_not_found"}
    limit = int(args.get("limit") or 1000)
    answers = sorted(
        (m for m in messages.values() if m.get("thread_ts") == ts and m["ts"] != ts), key=lambda m: m["ts"]
    )
    thread = [parent, *answers]
    with_metadata = _true(args.get("include_all_metadata"))
    return {
        "ok": True,
        "messages": [_shown(m, with_metadata) for m in thread[:limit]],
        "has_more": len(thread) > limit,
    }


def history(messages: dict[str, dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """``conversations.history``: the channel's top-level messages, newest first."""
    channel = str(args.get("channel"))
    oldest = str(args.get("oldest") or "0")
    limit = int(args.get("limit") or 100)
    top = sorted(
        (
            m
            for m in messages.values()
            if m["channel"] == channel and not m.get("thread_ts") and float(m["ts"]) >= float(oldest)
        ),
        key=lambda m: m["ts"],
        reverse=True,
    )
    with_metadata = _true(args.get("include_all_metadata"))
    return {
        "ok": True,
        "messages": [_shown(m, with_metadata) for m in top[:limit]],
        "has_more": len(top) > limit,
    }
