"""Every documented inbound message type reaches the thread as readable text; media is downloaded at once."""

from __future__ import annotations

from pathlib import Path

from adapters.whatsapp import parse_webhook
from bot.clock import ManualClock
from testkit.inbound import email_in
from testkit.whatsapp.graph import FakeGraph
from testkit.whatsapp.payloads import CUSTOMER, envelope, message
from testkit.whatsapp.rig import WhatsAppRig, build_rig


def _thread(rig: WhatsAppRig):
    local = rig.app.local
    assert local is not None
    assert len(local.threads) == 1, "all messages of one customer continue one conversation"
    return next(iter(local.threads.values()))


async def test_each_type_is_shown_and_none_is_dropped(rig: WhatsAppRig) -> None:
    now = rig.clock.now()
    rig.graph.media.update(
        {
            "vid1": (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
            "voice1": (b"OggS-voice", "audio/ogg; codecs=opus"),
            "doc1": (b"%PDF-1.4 invoice", "application/pdf"),
            "st1": (b"RIFF....WEBP", "image/webp"),
        }
    )
    messages = [
        message("text", {"body": "Hello <!channel> & welcome"}, when=now),
        message("video", {"id": "vid1", "mime_type": "video/mp4", "caption": "the damage"}, when=now),
        message("audio", {"id": "voice1", "mime_type": "audio/ogg; codecs=opus", "voice": True}, when=now),
        message(
            "document",
            {"id": "doc1", "mime_type": "application/pdf", "filename": "invoice-1881.pdf"},
            when=now,
        ),
        message("sticker", {"id": "st1", "mime_type": "image/webp", "animated": False}, when=now),
        message(
            "location",
            {"latitude": 52.37, "longitude": 4.89, "name": "Dam", "address": "Amsterdam"},
            when=now,
        ),
        message(
            "contacts",
            None,
            when=now,
            contacts=[
                {
                    "name": {"formatted_name": "Piet Jansen"},
                    "phones": [{"phone": "+31 6 9999 0000", "type": "CELL"}],
                }
            ],
        ),
        message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes, refund"}},
            when=now,
        ),
        message(
            "interactive",
            {
                "type": "list_reply",
                "list_reply": {"id": "r2", "title": "Exchange", "description": "swap the size"},
            },
            when=now,
        ),
        message("button", {"payload": "STOP", "text": "Stop promotions"}, when=now),
        message("reaction", {"message_id": "wamid.OUT1", "emoji": "👍"}, when=now),
        message("unsupported", None, when=now, errors=[{"code": 131051, "title": "Message type unknown"}]),
        message("hologram", {"depth": 3}, when=now),
    ]
    await rig.deliver(envelope(messages=messages))
    thread = _thread(rig)
    texts = thread.texts("inbound")
    assert texts[:6] == [
        "Hello <!channel> & welcome",
        "the damage",
        "[voice message]",
        "[document: invoice-1881.pdf]",
        "[sticker]",
        "📍 Location: Dam, Amsterdam (52.37, 4.89) https://maps.google.com/?q=52.37,4.89",
    ]
    assert texts[6] == "[shared contact] Piet Jansen: +31 6 9999 0000"
    assert texts[7:11] == [
        "[button] Yes, refund",
        "[list choice] Exchange — swap the size",
        "[button] Stop promotions",
        "[reaction] 👍 to a message Threadline does not have",
    ]
    assert texts[11].startswith("[a WhatsApp 'unsupported' message") and "Message type unknown" in texts[11]
    assert texts[12].startswith("[a WhatsApp 'hologram' message Threadline cannot show")
    files = {a.filename: a for post in thread.posts for a in post.attachments}
    assert files["invoice-1881.pdf"].data == b"%PDF-1.4 invoice"
    assert files["video-vid1.mp4"].data.startswith(b"\x00\x00\x00\x18ftyp")
    assert any(name.startswith("audio-voice1") for name in files)
    assert all(
        post.from_customer and post.author == "Sofia Jansen"
        for post in thread.posts
        if post.kind == "inbound"
    )
    assert rig.graph.unauthorised == 0


async def test_image_too_large_and_failed_download_are_shown_not_lost(
    tmp_path: Path, graph: FakeGraph, clock: ManualClock
) -> None:
    rig = await build_rig(tmp_path, graph, clock, max_media_bytes=1000)
    try:
        graph.media["big"] = (b"x" * 5000, "image/jpeg")
        graph.media["small"] = (b"\xff\xd8\xff small jpeg", "image/jpeg")
        now = clock.now()
        await rig.deliver(
            envelope(
                messages=[
                    message(
                        "image", {"id": "big", "mime_type": "image/jpeg", "caption": "huge photo"}, when=now
                    ),
                    message("image", {"id": "small", "mime_type": "image/jpeg"}, when=now),
                    message(
                        "image", {"id": "gone", "mime_type": "image/jpeg", "caption": "expired"}, when=now
                    ),
                ]
            )
        )
        posts = [p for p in _thread(rig).posts if p.kind == "inbound"]
        big, small, gone = (p.attachments[0] for p in posts)
        assert big.data is None and big.size == 5000 and big.note == "too large to keep"
        assert small.data == b"\xff\xd8\xff small jpeg" and small.filename == "image-small.jpg"
        assert posts[1].text == "[image]"
        assert gone.data is None and gone.note is not None and "download failed" in gone.note
        assert "send it again" in gone.note
    finally:
        await rig.close()


async def test_a_known_phone_number_links_to_the_same_contact(rig: WhatsAppRig) -> None:
    await rig.app.ingestor.ingest(email_in(sender="sofia@example.org", when=rig.clock.now()))
    async with rig.app.store.transaction() as uow:
        contact = await uow.contacts.contact_by_identity("email", "sofia@example.org")
        assert contact is not None
        from storage.models import ContactIdentity

        uow.add(ContactIdentity(contact_id=contact.id, kind="phone", value=CUSTOMER))
        email_contact = contact.id
    await rig.deliver(
        envelope(messages=[message("text", {"body": "it's me on WhatsApp"}, when=rig.clock.now())])
    )
    async with rig.app.store.transaction() as uow:
        found = await uow.contacts.contact_by_identity("phone", CUSTOMER)
        assert found is not None and found.id == email_contact
        conversations = await uow.conversations.contact_conversations(email_contact)
    assert sorted(c.channel for c in conversations) == ["email", "whatsapp"]


def test_parser_reads_profile_names_statuses_and_skips_broken_parts() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    payload = envelope(
        messages=[
            message(
                "text", {"body": "hi"}, when=when, wamid="wamid.A", context={"from": "x", "id": "wamid.OUT7"}
            ),
            {"type": "text", "text": {"body": "no id"}},
        ]
    )
    batch = parse_webhook(payload)
    assert len(batch.messages) == 1
    parsed = batch.messages[0]
    assert (parsed.wamid, parsed.wa_id, parsed.profile_name, parsed.timestamp, parsed.context_id) == (
        "wamid.A",
        CUSTOMER,
        "Sofia Jansen",
        when,
        "wamid.OUT7",
    )
    assert parse_webhook({"entry": "nonsense"}).messages == ()
    assert parse_webhook(None).statuses == ()
