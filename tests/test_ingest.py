"""Ingest: dedupe, contacts, threading, reopening, WhatsApp-style continuation, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import ManualClock
from bot.ports.inbound import AutoKind, ChannelCursor, InboundAttachment
from storage.models import Conversation, Message
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline


async def _conversation(app: Threadline, number: int) -> tuple[Conversation, list[Message], list[str]]:
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(number)
        assert conv is not None
        return conv, await uow.messages.messages_of(conv.id), await uow.labels.labels_of(conv.id)


async def test_duplicate_external_id_is_stored_once(any_app: Threadline, clock: ManualClock) -> None:
    msg = email_in(
        external_id="<dup@example.org>", when=clock.now(), cursor=ChannelCursor("imap:support", "1:5")
    )
    first = await any_app.ingestor.ingest(msg)
    again = await any_app.ingestor.ingest(msg)
    assert not first.duplicate and again.duplicate
    _, messages, _ = await _conversation(any_app, first.conversation_number or 0)
    assert [m.external_id for m in messages if m.kind == "inbound"] == ["<dup@example.org>"]
    async with any_app.store.transaction() as uow:
        assert await uow.cursors.cursor("imap:support") == "1:5"
        assert await uow.conversations.count_conversations() == 1


async def test_a_different_message_reusing_a_message_id_is_kept_and_marked(
    any_app: Threadline, clock: ManualClock
) -> None:
    first = await any_app.ingestor.ingest(email_in(external_id="<same@x>", text="Hi", when=clock.now()))
    other = email_in(sender="kim@example.net", external_id="<same@x>", text="My order?", when=clock.now())
    reused, redelivered = await asyncio.gather(any_app.ingestor.ingest(other), any_app.ingestor.ingest(other))
    again = await any_app.ingestor.ingest(other)  # the same different mail, read once more
    copy = await any_app.ingestor.ingest(email_in(external_id="<same@x>", text=" Hi\n", when=clock.now()))
    assert not first.duplicate and not reused.duplicate and reused.created_conversation
    assert redelivered.duplicate and again.duplicate and copy.duplicate  # true duplicates stay out
    _, messages, _ = await _conversation(any_app, reused.conversation_number or 0)
    (kept,) = [m for m in messages if m.kind == "inbound"]
    assert kept.text == "My order?" and kept.external_id != "<same@x>"
    assert kept.meta is not None and kept.meta["reuses_external_id"] == "<same@x>"
    await any_app.dispatcher.drain()
    thread = any_app.local.thread(reused.conversation_number or 0) if any_app.local else None
    assert thread is not None and thread.texts("inbound") == ["My order?"]
    assert thread.texts("notice") == [
        "⚠ this message reuses the id of an earlier, different message; kept as its own message"
    ]
    async with any_app.store.transaction() as uow:
        assert await uow.conversations.count_conversations() == 2


async def test_a_message_stored_without_a_fingerprint_still_drops_its_repeats(
    any_app: Threadline, clock: ManualClock
) -> None:
    first = await any_app.ingestor.ingest(email_in(external_id="<old@x>", when=clock.now()))
    async with any_app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(first.conversation_number or 0)
        assert conv is not None
        for message in await uow.messages.messages_of(conv.id, ["inbound"]):
            message.meta = None  # as stored before fingerprints existed
    other = email_in(sender="kim@example.net", external_id="<old@x>", text="Other", when=clock.now())
    assert (await any_app.ingestor.ingest(other)).duplicate


async def test_numbers_are_sequential_and_contacts_shared(any_app: Threadline, clock: ManualClock) -> None:
    a = await any_app.ingestor.ingest(email_in(subject="One", when=clock.now()))
    b = await any_app.ingestor.ingest(email_in(sender="JANE@example.org", subject="Two", when=clock.now()))
    assert (a.conversation_number, b.conversation_number) == (1, 2)  # new subject → new conversation
    conv_a, _, _ = await _conversation(any_app, 1)
    conv_b, _, _ = await _conversation(any_app, 2)
    assert conv_a.contact_id == conv_b.contact_id  # addresses are case-insensitive


async def test_threading_by_references_then_subject_token(any_app: Threadline, clock: ManualClock) -> None:
    first = await any_app.ingestor.ingest(email_in(external_id="<root@example.org>", when=clock.now()))
    by_ref = await any_app.ingestor.ingest(
        email_in(subject="Re: whatever", thread_refs=("<other@x>", "<root@example.org>"), when=clock.now())
    )
    by_token = await any_app.ingestor.ingest(
        email_in(subject="Re: [#1]", conversation_hint=1, when=clock.now())
    )
    stranger = await any_app.ingestor.ingest(
        email_in(sender="mallory@evil.example", subject="[#1]", conversation_hint=1, when=clock.now())
    )
    assert by_ref.conversation_number == first.conversation_number == by_token.conversation_number
    assert stranger.created_conversation and stranger.conversation_number != first.conversation_number


async def test_closed_conversation_reopens_within_window_else_new_linked(
    app: Threadline, clock: ManualClock
) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(whatsapp_in(text="Hi", when=clock.now()))
    await local.type_line(f"#{first.conversation_number} !close", "alice")
    clock.advance(timedelta(days=1))
    again = await app.ingestor.ingest(whatsapp_in(text="One more thing", when=clock.now()))
    assert again.conversation_number == first.conversation_number and again.reopened
    conv, _, _ = await _conversation(app, first.conversation_number or 0)
    assert conv.status == "open"

    await local.type_line(f"#{first.conversation_number} !close", "alice")
    clock.advance(timedelta(days=3))  # the WhatsApp inbox's window is 2 days
    later = await app.ingestor.ingest(whatsapp_in(text="Hello again", when=clock.now()))
    assert later.created_conversation and later.conversation_number != first.conversation_number
    new, _, _ = await _conversation(app, later.conversation_number or 0)
    assert new.previous_id == conv.id
    await app.dispatcher.drain()
    thread = local.thread(later.conversation_number or 0)
    assert thread is not None
    assert any(f"follows up on #{first.conversation_number}" in t for t in thread.texts("notice"))


async def test_whatsapp_continues_the_open_conversation(any_app: Threadline, clock: ManualClock) -> None:
    a = await any_app.ingestor.ingest(whatsapp_in(text="Hi", when=clock.now()))
    b = await any_app.ingestor.ingest(whatsapp_in(sender="31612345678", text="Order 4471", when=clock.now()))
    assert a.conversation_number == b.conversation_number


async def test_customer_message_wakes_a_snoozed_conversation(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(whatsapp_in(when=clock.now()))
    await local.type_line(f"#{first.conversation_number} !snooze 2d", "alice")
    conv, _, _ = await _conversation(app, first.conversation_number or 0)
    assert conv.status == "snoozed"
    await app.ingestor.ingest(whatsapp_in(text="any news?", when=clock.now()))
    conv, _, _ = await _conversation(app, first.conversation_number or 0)
    assert conv.status == "open" and conv.snoozed_until is None


async def test_auto_replies_are_labelled_and_never_reopen(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(email_in(external_id="<q@example.org>", when=clock.now()))
    await local.type_line(f"#{first.conversation_number} !close", "alice")
    ooo = await app.ingestor.ingest(
        email_in(
            subject="Out of office",
            thread_refs=("<q@example.org>",),
            auto_kind=AutoKind.AUTO_REPLY,
            when=clock.now(),
        )
    )
    conv, _, labels = await _conversation(app, ooo.conversation_number or 0)
    assert ooo.conversation_number == first.conversation_number
    assert conv.status == "closed" and labels == ["auto-reply"]


async def test_attachments_and_oversize_are_recorded(app: Threadline, clock: ManualClock) -> None:
    msg = email_in(
        when=clock.now(),
        attachments=(
            InboundAttachment("photo.jpg", "image/jpeg", 4, data=b"\xff\xd8\xff\xe0"),
            InboundAttachment("video.mov", "video/quicktime", 90_000_000, too_large=True),
        ),
    )
    result = await app.ingestor.ingest(msg)
    await app.dispatcher.drain()
    assert app.local is not None
    thread = app.local.thread(result.conversation_number or 0)
    assert thread is not None
    files = thread.posts[0].attachments
    assert [(f.filename, f.data, f.note) for f in files] == [
        ("photo.jpg", b"\xff\xd8\xff\xe0", None),
        ("video.mov", None, "too large to keep"),
    ]
