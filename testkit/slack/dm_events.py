"""Events API ``message`` events of a member's DM to the app, as Slack sends them.

A DM to the app arrives as a ``message`` event with ``channel_type`` ``im`` and the DM's channel
id (``D…``) once the app subscribes to ``message.im`` with the ``im:history`` scope
(https://docs.slack.dev/reference/events/message.im); the member can write there only when the
App Home's Messages tab is enabled and not read-only (https://docs.slack.dev/surfaces/app-home).
The fake Slack is told of each message, as Slack then holds it.
"""

from __future__ import annotations

import itertools
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import as_slack_sends, event_request

__all__ = ["dm_message"]

_ids = itertools.count(1)


def dm_message(
    fake: FakeSlack,
    text: str,
    *,
    user: str = "UCUST",
    files: list[dict[str, Any]] | None = None,
    event_id: str | None = None,
) -> tuple[AsyncBoltRequest, dict[str, Any]]:
    """``user``'s DM to the app (the DM channel opened in the fake first); (request, event)."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": fake.open_im(user),
        "user": user,
        "text": as_slack_sends(text),
        "ts": f"1820000000.{next(_ids):06d}",
        "channel_type": "im",
        "team": "T1",
    }
    if files:
        event.update(subtype="file_share", files=files, upload=False)
    fake.receive(event)
    return event_request(event, event_id=event_id), event
