"""The outbound surface against the fake Web API: posts, identity, uploads, and error mapping."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.ports import (
    DeliveryError,
    PermanentDeliveryError,
    SurfaceRefused,
    ThreadGone,
    ThreadRef,
    TransientDeliveryError,
)
from bot.views import AttachmentView, PostView
from testkit.slack.direct import CARD, direct_surface
from testkit.slack.fake import FakeSlack
from testkit.slack.read import literal_text
from testkit.views import NOW, inbound_post


async def test_card_then_customer_post_in_its_thread(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0, customer_icon_emoji=":bust_in_silhouette:")
    ref = await slack.create_thread("C1", CARD)
    assert ref == ThreadRef("C1", ref.thread_id, ref.thread_id)
    ts = await slack.post(ref, inbound_post("Hi <!channel>"))
    message = fake_slack.messages[ts]
    assert message["thread_ts"] == ref.thread_id
    assert message["username"] == "Ann Customer (customer)"
    assert message["icon_emoji"] == ":bust_in_silhouette:"
    assert "link_names" not in message
    assert message["blocks"][0]["type"] == "rich_text" and literal_text(message) == "Hi <!channel>"
    await slack.update_card(ref, CARD)
    assert fake_slack.last_update(ref.card_id) is None  # unchanged: no API call
    await slack.update_card(ref, replace(CARD, assignee="Alice"))
    assert "Alice" in json.dumps((fake_slack.last_update(ref.card_id) or {})["blocks"])


async def test_attachments_are_uploaded_into_the_thread(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack)
    ref = await slack.create_thread("C1", CARD)
    files = (
        AttachmentView("invoice.pdf", "application/pdf", 5, b"%PDF-"),
        AttachmentView("huge.bin", "application/octet-stream", 10**9, None, "too large to keep"),
    )
    await slack.post(ref, inbound_post("see attached", attachments=files))
    complete = fake_slack.called("files.completeUploadExternal")
    assert len(complete) == 1
    assert complete[0].args["channel_id"] == "C1" and complete[0].args["thread_ts"] == ref.thread_id
    assert [f["title"] for f in complete[0].args["files"]] == ["invoice.pdf"]
    assert [c.args["size"] for c in fake_slack.called("upload")] == [5]
    assert "huge.bin" in literal_text(fake_slack.thread("C1", ref.thread_id)[0])


@pytest.mark.parametrize(
    ("error", "status", "expected", "words"),
    [
        ("channel_not_found", 200, SurfaceRefused, "check inboxes"),
        ("not_in_channel", 200, SurfaceRefused, "/invite"),
        ("ratelimited", 429, TransientDeliveryError, "rate limit"),
        ("ratelimited", 200, TransientDeliveryError, "rate limit"),
        ("internal_error", 500, TransientDeliveryError, "unavailable"),
        ("invalid_blocks", 200, PermanentDeliveryError, "invalid_blocks"),
    ],
)
async def test_errors_map_to_delivery_errors(
    fake_slack: FakeSlack, error: str, status: int, expected: type[DeliveryError], words: str
) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    fake_slack.fail("chat.postMessage", error, status=status, retry_after=7 if status == 429 else None)
    with pytest.raises(expected) as caught:
        await slack.create_thread("C1", CARD)
    assert type(caught.value) is expected
    assert words in caught.value.reason
    if status == 429:
        assert caught.value.retry_after == 7.0


async def test_update_of_a_deleted_card_is_thread_gone(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack)
    ref = await slack.create_thread("C1", CARD)
    fake_slack.delete(ref.card_id)
    with pytest.raises(ThreadGone):
        await slack.update_card(ref, replace(CARD, status="closed"))
    with pytest.raises(ThreadGone):
        await slack.post(ref, inbound_post("still there?"))


async def test_the_sdk_retry_handler_honours_retry_after(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=2)
    fake_slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0)
    ref = await slack.create_thread("C1", CARD)
    assert len(fake_slack.called("chat.postMessage")) == 2
    assert fake_slack.roots("C1")[0]["ts"] == ref.card_id


async def test_a_retried_long_post_resumes_instead_of_repeating(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", CARD)
    long_text = "".join(f"line {i} " + "word " * 250 + "\n" for i in range(60))  # 75,000 characters
    posted_before = len(fake_slack.called("chat.postMessage"))

    original = fake_slack._chat_postMessage
    state = {"n": 0}

    def flaky(args: dict) -> dict:
        state["n"] += 1
        if state["n"] == 2:
            return {"ok": False, "error": "ratelimited"}
        return original(args)

    monkeypatch.setattr(fake_slack, "_chat_postMessage", flaky)
    with pytest.raises(TransientDeliveryError):
        await slack.post(ref, inbound_post(long_text))
    first = await slack.post(ref, inbound_post(long_text))
    thread = fake_slack.thread("C1", ref.thread_id)
    assert first.split() == [m["ts"] for m in thread]  # every part's ts, for redaction
    assert len(thread) > 2
    joined = "\n".join(literal_text(m) for m in thread)
    assert all(joined.count(f"line {i} ") == 1 for i in range(60))  # every part exactly once
    assert len(fake_slack.called("chat.postMessage")) - posted_before == len(thread) + 1  # one failed call


async def test_digest_is_posted_with_thread_links_and_escaped_subjects(fake_slack: FakeSlack) -> None:
    from bot.views import DigestEntry, DigestView

    slack = direct_surface(fake_slack)
    ref = await slack.create_thread("C1", CARD)
    entry = DigestEntry(
        number=3,
        subject="Refund <!channel>",
        inbox="support",
        assignee=None,
        waiting_since=NOW,
        sla_state="breached",
        surface="slack",
        chat_channel="C1",
        thread_id=ref.thread_id,
    )
    digest = DigestView(
        name="daily",
        title="Daily digest",
        period_start=NOW,
        period_end=NOW,
        timezone="UTC",
        inboxes=("support",),
        open=4,
        unassigned=1,
        snoozed=0,
        breached=1,
        opened=5,
        closed=2,
        median_first_response=600.0,
        median_resolution=None,
        sla_compliance=75.0,
        oldest=(entry,),
        by_label=(("refund", 2),),
    )
    ts = await slack.post_digest("CDIGEST", digest)
    message = fake_slack.messages[ts]
    assert message["channel"] == "CDIGEST" and "thread_ts" not in message
    body = json.dumps(message["blocks"], ensure_ascii=False)
    (waiting,) = [b for b in message["blocks"] if b["type"] == "rich_text"]
    link = next(e for e in waiting["elements"][0]["elements"] if e["type"] == "link")
    assert link == {
        "type": "link",
        "url": fake_slack.permalink("C1", ref.thread_id),
        "text": "#3 Refund <!channel>",
    }
    assert "<!channel>" not in json.dumps([b for b in message["blocks"] if b["type"] != "rich_text"])
    assert "10 min" in body and "75 %" in body

    charted = replace(digest, chart_png=b"\x89PNG\r\n\x1a\n" + b"0" * 2000)
    ts = await slack.post_digest("CDIGEST", charted)
    (uploaded,) = [c.args for c in fake_slack.called("upload")]
    assert uploaded["size"] == 2008
    (complete,) = [c.args for c in fake_slack.called("files.completeUploadExternal")]
    assert complete["channel_id"] == "CDIGEST" and complete["thread_ts"] == ts


async def test_escalation_posts_to_the_channel_with_a_thread_link(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", CARD)
    notice = PostView(kind="notice", author="Threadline", text="#7 breached <!channel>", created_at=NOW)
    ts = await slack.post_to_channel("CESC", notice, ref)
    posted = fake_slack.messages[ts]
    assert posted["channel"] == "CESC" and "thread_ts" not in posted
    assert "&lt;!channel&gt;" in posted["text"] and "<!channel>" not in posted["text"]
    assert f"<{fake_slack.permalink('C1', ref.thread_id)}|open the thread>" in posted["text"]


async def test_redact_deletes_every_part_of_a_long_post(fake_slack: FakeSlack) -> None:
    slack = direct_surface(fake_slack, rate_limit_retries=0)
    ref = await slack.create_thread("C1", CARD)
    long_text = "".join(f"line {i} " + "secret " * 500 + "\n" for i in range(60))  # > 50 sections
    ids = await slack.post(ref, inbound_post(long_text))
    parts = ids.split()
    assert len(parts) > 1 and all(p in fake_slack.messages for p in parts)
    await slack.redact(ref, ids)
    assert not any(p in fake_slack.messages for p in parts)
    await slack.redact(ref, ids)  # already gone: no error
