"""Events API ``message`` events of customers writing in an intake channel, as Slack sends them.

A top-level message has no ``thread_ts``; a reply in its thread has ``thread_ts`` = the root's
``ts`` (https://docs.slack.dev/reference/events/message, https://docs.slack.dev/messaging#threading).
In a Slack Connect channel the event also names the sender's organisation: ``user_team`` (and
``source_team``) next to ``team`` (https://docs.slack.dev/apis/slack-connect/#events). The fake
Slack is told of each message, as Slack then holds it (a reply can thread on it).
"""

from __future__ import annotations

import itertools
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import as_slack_sends, event_request

HELP = "C_HELP"
_ids = itertools.count(1)


def customer_message(
    fake: FakeSlack,
    text: str,
    *,
    user: str = "UCUST",
    channel: str = HELP,
    thread_ts: str | None = None,
    user_team: str | None = None,
    bot_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> tuple[AsyncBoltRequest, str]:
    """A customer's message in an intake channel (a reply in ``thread_ts`` when given); (request, ts)."""
    ts = f"1810000000.{next(_ids):06d}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": as_slack_sends(text),
        "ts": ts,
        "channel_type": "channel",
        "team": "T1",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    if user_team:
        event.update(user_team=user_team, source_team=user_team)
    if bot_id:
        event["bot_id"] = bot_id
    if files:  # a file shared with the message: subtype file_share, as Slack sends it
        event.update(subtype="file_share", files=files, upload=False)
    fake.receive(event)
    return event_request(event), ts
