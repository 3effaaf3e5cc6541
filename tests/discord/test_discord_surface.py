"""The Discord surface against the fake REST API: threads, cards, customer posts, archives, errors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.discord.bridge import NONE
from adapters.discord.text import unescape
from bot.clock import ManualClock
from bot.commands import Actor, Location
from bot.ports import PermanentDeliveryError, ThreadGone, ThreadRef, TransientDeliveryError
from bot.ports.inbound import InboundAttachment
from bot.views import DeliveryKey, DigestView, PostView
from storage.models import OutboxRow
from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import ALICE, DiscordRig, build_app, email_in
from testkit.views import card_view

INJECTION = "@everyone @here <@&700000000000000001> <@600000000000000002> please help"


async def deliver(h: DiscordRig, **fields: Any) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now(), **fields))
    await h.app.dispatcher.drain()
    return h.thread_id()


async def test_conversation_opens_a_public_thread_with_the_card_and_its_components(
    harness: DiscordRig,
) -> None:
    thread_id = await deliver(harness)
    create = harness.fake.find("POST", rf"^/channels/{harness.channel_id}/threads$")
    assert len(create) == 1 and create[0].json["type"] == 11  # public_thread, not the private default
    assert create[0].json["name"] == "#1 · Jane Doe · Refund for order 1881"
    card = harness.card(thread_id)
    assert card["embeds"][0]["title"] == "#1 · ✉ email · jane@example.org"
    ids = [c["custom_id"] for row in card["components"] for c in row["components"]]
    assert ids == ["tl:claim:1", "tl:close:1", "tl:assign:1", "tl:snooze:1"]
    async with harness.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        thread = await uow.threads.thread_of(conversation.id, "discord")
    assert thread is not None
    assert (thread.chat_channel, thread.thread_id, thread.card_id) == (
        str(harness.channel_id),
        str(thread_id),
        card["id"],
    )


async def test_customer_text_never_pings_anyone(harness: DiscordRig) -> None:
    thread_id = await deliver(harness, text=INJECTION, name="@everyone")
    customer = harness.fake.posts(thread_id)[1]
    assert customer["embeds"][0]["author"]["name"] == "@everyone (customer)"
    assert unescape(customer["embeds"][0]["description"]) == INJECTION
    sent = [c.json for c in harness.fake.find("POST", rf"^/channels/{thread_id}/messages$")]
    assert sent and all(body["allowed_mentions"] == {"parse": []} for body in sent)
    assert NONE.to_dict() == {"parse": []}


async def test_attachments_are_uploaded_into_the_thread(harness: DiscordRig) -> None:
    pdf = InboundAttachment("invoice.pdf", "application/pdf", 7, b"%PDF-1.")
    thread_id = await deliver(harness, attachments=(pdf,))
    uploads = [c for c in harness.fake.find("POST", rf"^/channels/{thread_id}/messages$") if c.files]
    assert [(name, data) for c in uploads for name, data in c.files] == [("invoice.pdf", b"%PDF-1.")]
    assert uploads[0].json["allowed_mentions"] == {"parse": []}


async def test_posting_in_an_archived_thread_unarchives_it_as_discord_does(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    harness.fake.archive(thread_id)
    await deliver(harness, text="Any news?", conversation_hint=1)
    async with harness.app.store.transaction() as uow:
        assert await uow.conversations.count_conversations() == 1
    assert not harness.fake.archived(thread_id)
    assert any(
        m["embeds"] and m["embeds"][0]["description"] == "Any news?" for m in harness.fake.posts(thread_id)
    )


async def test_card_in_an_archived_thread_is_edited_after_unarchiving(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    harness.fake.archive(thread_id)
    assert harness.app.discord is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), harness.card(thread_id)["id"])
    await harness.app.discord.update_card(ref, card_view(number=1, assignee="Alice Martin"))
    unarchive = harness.fake.find("PATCH", rf"^/channels/{thread_id}$")
    assert unarchive and unarchive[0].json == {"archived": False}
    edited = harness.card(thread_id)
    assert edited["edits"] == 1 and "Alice Martin" in str(edited["embeds"][0]["fields"])


async def test_a_locked_archived_thread_is_a_permanent_failure_that_says_so(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    harness.fake.archive(thread_id, locked=True)
    assert harness.app.discord is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), harness.card(thread_id)["id"])
    post = PostView(kind="note", author="Alice", text="internal", created_at=harness.clock.now())
    with pytest.raises(PermanentDeliveryError) as err:
        await harness.app.discord.post(ref, post)
    assert "moderator locked" in err.value.reason and "unlock" in err.value.reason
    assert not isinstance(err.value, ThreadGone)


async def test_deleted_thread_is_recreated_by_the_dispatcher(harness: DiscordRig) -> None:
    first = await deliver(harness)
    harness.fake.delete_channel(first)
    await deliver(harness, text="Hello again?", conversation_hint=1)
    second = harness.thread_id()
    assert second != first
    texts = [m["embeds"][0].get("description") for m in harness.fake.posts(second) if m["embeds"]]
    assert texts[-1] == "Hello again?"
    assert harness.fake.posts(second)[0]["embeds"][0]["title"].startswith("#1 ")


async def test_long_rate_limit_goes_back_to_the_outbox_with_retry_after(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    surface = harness.app.discord
    assert surface is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), harness.card(thread_id)["id"])
    harness.fake.rate_limit_next("POST", rf"^/channels/{thread_id}/messages$", retry_after=60)
    post = PostView(kind="note", author="Alice", text="internal", created_at=harness.clock.now())
    with pytest.raises(TransientDeliveryError) as err:
        await surface.post(ref, post)
    assert err.value.retry_after == 60


async def test_short_rate_limit_is_slept_through_by_discord_py(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    harness.fake.rate_limit_next("POST", rf"^/channels/{thread_id}/messages$", retry_after=0.01)
    await deliver(harness, text="second message", conversation_hint=1)
    posted = harness.fake.find("POST", rf"^/channels/{thread_id}/messages$")
    assert [c.json["embeds"][0]["description"] for c in posted[-2:]] == ["second message", "second message"]
    assert harness.fake.posts(thread_id)[-1]["embeds"][0]["description"] == "second message"


async def test_rate_limited_row_is_rescheduled_not_failed(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    harness.fake.rate_limit_next("POST", rf"^/channels/{thread_id}/messages$", retry_after=45)
    await deliver(harness, text="later", conversation_hint=1)
    async with harness.app.store.transaction() as uow:
        rows = list((await uow.session.execute(select(OutboxRow))).scalars())
    limited = [r for r in rows if r.last_error and "rate limit" in r.last_error]
    assert len(limited) == 1 and limited[0].status != "failed" and limited[0].attempts == 0
    due = limited[0].next_attempt_at.replace(tzinfo=None) - harness.clock.now().replace(tzinfo=None)
    assert due.total_seconds() == 45
    assert all(r.status in ("done", "pending") for r in rows)


async def test_missing_permission_is_a_permanent_failure_with_a_reason(harness: DiscordRig) -> None:
    harness.fake.fail_next("POST", r"/threads$", 403, {"code": 50013, "message": "Missing Permissions"})
    surface = harness.app.discord
    assert surface is not None
    with pytest.raises(PermanentDeliveryError) as err:
        await surface.create_thread(str(harness.channel_id), card_view())
    assert "lacks a permission" in err.value.reason and "Create Public Threads" in err.value.reason
    assert not isinstance(err.value, ThreadGone)


async def test_forum_channel_gets_one_post_per_conversation_with_label_tags(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    forum = fake.add_forum_channel("inbox", tags=("refund", "billing"))
    clock = ManualClock()
    app, _ = build_app(fake, tmp_path, clock, forum)
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    try:
        await app.ingestor.ingest(email_in(clock.now()))
        await app.dispatcher.drain()
        thread = fake.threads()[0]
        assert thread["parent_id"] == str(forum)
        starter = fake.posts(int(thread["id"]))[0]
        assert starter["id"] == thread["id"] and starter["embeds"][0]["title"].startswith("#1 ")
        alice = Actor("discord", str(ALICE), "Alice")
        reply = await app.commands.handle(
            alice, "label +refund", Location("discord", thread["id"]), prefixed=False
        )
        assert reply.ok
        await app.dispatcher.drain()
        refund = next(t["id"] for t in fake.channels[forum]["available_tags"] if t["name"] == "refund")
        assert fake.channels[int(thread["id"])]["applied_tags"] == [refund]
    finally:
        await app.stop()


async def test_escalation_posts_to_the_channel_with_a_thread_mention(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    assert harness.app.discord is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), "0")
    notice = PostView(
        kind="notice", author="Threadline", text="#1 breached @everyone", created_at=harness.clock.now()
    )
    await harness.app.discord.post_to_channel(str(harness.channel_id), notice, ref)
    (call,) = harness.fake.find("POST", rf"^/channels/{harness.channel_id}/messages$")
    assert call.json["content"] == f"⚠ #1 breached @everyone → <#{thread_id}>"
    assert call.json["allowed_mentions"] == {"parse": []}


async def test_redact_deletes_the_posts_of_a_message(harness: DiscordRig) -> None:
    thread_id = await deliver(harness, text="my card number is 4111 " * 300)
    posted = [m for m in harness.fake.posts(thread_id) if m.get("embeds")]
    ids = " ".join(str(m["id"]) for m in posted)
    assert harness.app.discord is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), "0")
    await harness.app.discord.redact(ref, ids)
    assert [c.path for c in harness.fake.find("DELETE", rf"^/channels/{thread_id}/messages/")] == [
        f"/channels/{thread_id}/messages/{m['id']}" for m in posted
    ]
    await harness.app.discord.redact(ref, ids)  # already gone: no error


async def test_digest_with_its_chart_as_the_embed_image(harness: DiscordRig) -> None:
    digest = DigestView(
        name="weekly",
        title="Weekly digest",
        period_start=harness.clock.now(),
        period_end=harness.clock.now(),
        timezone="UTC",
        inboxes=("support",),
        open=1,
        unassigned=1,
        snoozed=0,
        breached=0,
        opened=1,
        closed=0,
        median_first_response=None,
        median_resolution=None,
        sla_compliance=None,
    )
    charted = dataclasses.replace(digest, chart_png=b"\x89PNG\r\n\x1a\n" + b"0" * 500)
    assert harness.app.discord is not None
    await harness.app.discord.post_digest(str(harness.channel_id), charted)
    (call,) = harness.fake.find("POST", rf"^/channels/{harness.channel_id}/messages$")
    assert call.json["embeds"][0]["image"]["url"] == "attachment://digest.png"
    assert [name for name, _ in call.files] == ["digest.png"]
    assert call.json["allowed_mentions"] == {"parse": []}


async def test_a_retried_delivery_returns_the_message_an_earlier_attempt_posted(harness: DiscordRig) -> None:
    thread_id = await deliver(harness)
    surface = harness.app.discord
    assert surface is not None
    ref = ThreadRef(str(harness.channel_id), str(thread_id), harness.card(thread_id)["id"])
    note = PostView(kind="notice", author="Threadline", text="queued", created_at=harness.clock.now())
    first = await surface.post(ref, dataclasses.replace(note, delivery=DeliveryKey(77)))
    posts = len(harness.fake.posts(thread_id))
    # the instance died before recording it; the row's next claim posts it again with the same nonce
    again = await surface.post(ref, dataclasses.replace(note, delivery=DeliveryKey(77, retried=True)))
    assert again == first and len(harness.fake.posts(thread_id)) == posts
    sent = harness.fake.find("POST", rf"^/channels/{thread_id}/messages$")[-1]
    assert sent.json["nonce"] == "tl77.0" and sent.json["enforce_nonce"] is True


async def test_a_retried_card_never_adopts_the_conversations_older_thread(harness: DiscordRig) -> None:
    old_thread = await deliver(harness)  # #1's card thread, still active when a resync opens a new card
    surface = harness.app.discord
    assert surface is not None
    real_time = harness.fake.id_clock
    harness.fake.id_clock = lambda: real_time() + 3600  # the resync, an hour later
    queued = datetime.now(UTC) + timedelta(hours=1)
    again = card_view(number=1, delivery=DeliveryKey(99, retried=True, queued_at=queued))
    ref = await surface.create_thread(str(harness.channel_id), again)
    assert ref.thread_id != str(old_thread)  # a new thread: the old one was another card's
    threads = harness.fake.find("POST", rf"^/channels/{harness.channel_id}/threads$")
    assert len(threads) == 2
    # the attempt died after opening it: the retry adopts the thread it opened, not a third one
    adopted = await surface.create_thread(str(harness.channel_id), again)
    assert adopted.thread_id == ref.thread_id
    assert len(harness.fake.find("POST", rf"^/channels/{harness.channel_id}/threads$")) == 2
