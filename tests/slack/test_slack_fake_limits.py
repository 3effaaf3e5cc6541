"""The fake refuses what Slack refuses, through the real ``AsyncWebClient``: each documented limit once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import as_slack_sends
from testkit.slack.signing import trigger_id


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


async def refusal(fake: FakeSlack, method: str, **args: Any) -> str | None:
    """Slack's error code for the call, or None when it was accepted."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.url)
    try:
        await client.api_call(method, json=args)
    except SlackApiError as exc:
        return str(exc.response["error"])
    return None


REFUSED = [
    ("51 blocks", [section("x")] * 51, "invalid_blocks"),
    ("section text of 3,001", [section("x" * 3001)], "invalid_blocks"),
    (
        "field of 2,001",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
        "invalid_blocks",
    ),
    ("button text of 76", [{"type": "actions", "elements": [button("a", "x" * 76)]}], "invalid_blocks"),
    ("same action_id twice", [{"type": "actions", "elements": [button("a"), button("a")]}], "invalid_blocks"),
    ("12,001 characters in blocks", [section("x" * 3000)] * 4 + [section("y")], "msg_blocks_too_long"),
]


@pytest.mark.parametrize(("what", "blocks", "error"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_block_kit_limits_are_refused(
    fake_slack: FakeSlack, what: str, blocks: list, error: str
) -> None:
    assert await refusal(fake_slack, "chat.postMessage", channel="C1", text="t", blocks=blocks) == error
    assert fake_slack.messages == {}


async def test_what_is_within_the_limits_is_accepted(fake_slack: FakeSlack) -> None:
    buttons = {"type": "actions", "elements": [button("a", "x" * 75), button("b")]}
    blocks = [section("x" * 3000)] * 3 + [section("x" * 2900), buttons]  # 11,977 characters
    assert (
        await refusal(fake_slack, "chat.postMessage", channel="C1", text="x" * 40_000, blocks=blocks) is None
    )


async def test_text_over_40000_and_unknown_methods_fail(fake_slack: FakeSlack) -> None:
    assert await refusal(fake_slack, "chat.postMessage", channel="C1", text="x" * 40_001) == "msg_too_long"
    assert await refusal(fake_slack, "chat.postMesage", channel="C1", text="hi") == "unknown_method"


async def test_trigger_ids_expire_after_three_seconds_and_work_once(fake_slack: FakeSlack) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    stale = trigger_id(time.time() - 3.5)
    assert await refusal(fake_slack, "views.open", trigger_id=stale, view=view) == "expired_trigger_id"
    fresh = trigger_id()
    assert await refusal(fake_slack, "views.open", trigger_id=fresh, view=view) is None
    assert await refusal(fake_slack, "views.open", trigger_id=fresh, view=view) == "exchanged_trigger_id"


async def test_user_groups_need_a_paid_workspace(fake_slack: FakeSlack) -> None:
    fake_slack.paid_workspace = False
    assert await refusal(fake_slack, "usergroups.users.list", usergroup="S1") == "paid_teams_only"


def test_inbound_text_is_escaped_as_slack_sends_it() -> None:
    typed = "Fish & chips <https://x.example/?a=1&b=2|here> <mailto:a@b.example|a@b.example> a<b>c <!here>"
    assert as_slack_sends(typed) == (
        "Fish &amp; chips <https://x.example/?a=1&amp;b=2|here> <mailto:a@b.example|a@b.example>"
        " a&lt;b&gt;c <!here>"
    )


async def test_modal_views_within_their_limits(fake_slack: FakeSlack) -> None:
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}
    assert (
        await refusal(fake_slack, "views.open", trigger_id=trigger_id(), view=long_title)
        == "invalid_arguments"
    )


async def test_a_bot_token_edits_and_deletes_only_the_apps_own_messages(fake_slack: FakeSlack) -> None:
    fake_slack.receive({"type": "message", "channel": "C1", "user": "UCUST", "text": "hi", "ts": "1.000001"})
    assert await refusal(fake_slack, "chat.update", channel="C1", ts="1.000001", text="x") == (
        "cant_update_message"
    )
    assert await refusal(fake_slack, "chat.delete", channel="C1", ts="1.000001") == "cant_delete_message"
    assert fake_slack.messages["1.000001"]["text"] == "hi"
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    own = (await client.chat_postMessage(channel="C1", text="card"))["ts"]
    assert await refusal(fake_slack, "chat.update", channel="C1", ts=own, text="card, edited") is None
    assert await refusal(fake_slack, "chat.delete", channel="C1", ts=own) is None
