"""Posts after a crash are not duplicated on Slack: every card and thread message carries its outbox id
in message metadata; a retried delivery finds what an earlier attempt posted (``conversations.replies``
/ ``conversations.history`` with ``include_all_metadata``) and adopts it. The fake validates metadata
and returns it only when asked, as Slack documents (testkit/slack/history.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.views import DeliveryKey
from testkit.slack.direct import CARD, direct_surface
from testkit.slack.fake import FakeSlack
from testkit.views import inbound_post


def _posts(fake: FakeSlack) -> int:
    return len(fake.called("chat.postMessage"))


async def test_messages_carry_the_outbox_id_and_a_retry_adopts_them(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", replace(CARD, delivery=DeliveryKey(41)))
    post = inbound_post("Where is my parcel?", delivery=DeliveryKey(42))
    ts = await slack.post(ref, post)
    assert fake_slack.messages[ts]["metadata"] == {
        "event_type": "threadline_outbox",
        "event_payload": {"outbox_id": 42, "kind": "post", "part": 0},
    }
    posted = _posts(fake_slack)

    restarted = direct_surface(fake_slack, rate_limit_retries=0)  # a new process: nothing in memory
    again = await restarted.post(ref, replace(post, delivery=DeliveryKey(42, retried=True)))
    card = await restarted.create_thread("C1", replace(CARD, delivery=DeliveryKey(41, retried=True)))
    assert (again, card.thread_id) == (ts, ref.thread_id)  # adopted, not posted again
    assert _posts(fake_slack) == posted
    assert len(fake_slack.thread("C1", ref.thread_id)) == 1 and len(fake_slack.roots("C1")) == 1


async def test_a_retry_that_finds_nothing_posts_once(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", CARD)
    await slack.post(ref, inbound_post("another delivery", message_uid="m-9", delivery=DeliveryKey(7)))
    ts = await slack.post(
        ref, inbound_post("first try died before posting", delivery=DeliveryKey(8, retried=True))
    )
    assert fake_slack.messages[ts]["metadata"]["event_payload"] == {"outbox_id": 8, "kind": "post", "part": 0}
    assert len(fake_slack.thread("C1", ref.thread_id)) == 2
    assert fake_slack.called("conversations.replies")  # it looked before posting


async def test_a_long_post_resumes_at_the_first_missing_part(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", CARD)
    long = inbound_post(("word " * 900 + "\n") * 12, delivery=DeliveryKey(5))
    first = await slack.post(ref, long)
    parts = len(first.split())
    assert parts >= 2
    ts_first = first.split()[0]
    del fake_slack.messages[first.split()[-1]]  # as if the process died before posting the last part
    restarted = direct_surface(fake_slack, rate_limit_retries=0)
    again = await restarted.post(ref, replace(long, delivery=DeliveryKey(5, retried=True)))
    assert again.split()[0] == ts_first and len(again.split()) == parts
    assert len(fake_slack.thread("C1", ref.thread_id)) == parts


async def test_the_fake_refuses_malformed_metadata_and_hides_it_unless_asked(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    for bad, error in (
        ({"event_type": "threadline_outbox"}, "invalid_metadata_schema"),
        ({"event_type": 5, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "threadline.outbox", "event_payload": {}}, "invalid_metadata_schema"),  # no periods
        ({"event_type": "x", "event_payload": "not an object"}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": {"deep": {"deeper": {"no": 1}}}}, "invalid_metadata_schema"),
    ):
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel="C1", text="hi", metadata=bad)
        assert refused.value.response["error"] == error
    good = {"event_type": "threadline_outbox", "event_payload": {"outbox_id": 1}}
    root = await client.chat_postMessage(channel="C1", text="card", metadata=good)
    await client.chat_postMessage(channel="C1", text="reply", thread_ts=root["ts"], metadata=good)
    plain = await client.conversations_replies(channel="C1", ts=root["ts"])
    assert [m.get("metadata") for m in plain["messages"]] == [None, None]
    full = await client.conversations_replies(channel="C1", ts=root["ts"], include_all_metadata=True)
    assert [m["metadata"] for m in full["messages"]] == [good, good]
    top = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["ts"] for m in top["messages"]] == [root["ts"]]


async def test_a_row_that_posted_its_card_still_posts_its_message(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    key = DeliveryKey(3, retried=True)  # one row: the card, then the first post in its thread
    ref = await slack.create_thread("C1", replace(CARD, delivery=key))
    await slack.post(ref, inbound_post("the customer's first message", delivery=key))
    assert len(fake_slack.thread("C1", ref.thread_id)) == 1  # the card's metadata is not the post's


async def test_a_retried_channel_notice_is_adopted(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    notice = inbound_post("SLA breached on #7", kind="notice", from_customer=False, delivery=DeliveryKey(9))
    first = await slack.post_to_channel("C_ALERTS", notice, None)
    again = await direct_surface(fake_slack, rate_limit_retries=0).post_to_channel(
        "C_ALERTS", replace(notice, delivery=DeliveryKey(9, retried=True)), None
    )
    assert again == first and len(fake_slack.roots("C_ALERTS")) == 1
