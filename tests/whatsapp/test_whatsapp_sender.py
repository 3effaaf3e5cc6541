"""The sender against the fake Graph API: JSON bodies, splitting, media, templates, and each error code."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.whatsapp import GraphClient, WhatsAppSender, split_text
from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports import MemoryParts, PermanentDeliveryError, TransientDeliveryError
from bot.views import AttachmentView, OutboundView
from testkit.whatsapp.graph import PHONE_NUMBER_ID, TOKEN, FakeGraph
from testkit.workers import free_port


def _settings(url: str, token: str = TOKEN) -> WhatsAppSettings:
    return WhatsAppSettings.model_validate(
        {
            "inbox": "whatsapp",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": token,
            "app_secret": "s",
            "verify_token": "v",
            "graph_base_url": url,
            "templates": {"order_update": {"language": "en_US", "parameters": 2}},
        }
    )


def _reply(text: str = "Your refund is on its way.", **fields: object) -> OutboundView:
    base: dict[str, Any] = dict(
        uid="u1",
        conversation_number=7,
        inbox="whatsapp",
        inbox_address="+31205550100",
        channel="whatsapp",
        to_address="31612345678",
        to_name="Sofia",
        subject="",
        text=text,
        agent_name="Alice",
    )
    base.update(fields)
    return OutboundView(**base)


@pytest.fixture
async def sender(graph: FakeGraph):
    client = GraphClient(_settings(graph.url))
    yield WhatsAppSender(_settings(graph.url), client)
    await client.close()


async def test_text_reply_json(sender: WhatsAppSender, graph: FakeGraph) -> None:
    wamid = await sender.send(_reply())
    assert wamid == "wamid.OUT1"
    assert graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "31612345678",
            "type": "text",
            "text": {"preview_url": False, "body": "Your refund is on its way."},
        }
    ]


async def test_long_text_is_split_and_the_first_wamid_returned(
    sender: WhatsAppSender, graph: FakeGraph
) -> None:
    text = ("word " * 2000).strip()  # 9,999 chars
    wamid = await sender.send(_reply(text))
    bodies = [m["text"]["body"] for m in graph.sent]
    assert wamid == "wamid.OUT1" and len(bodies) == 3
    assert all(len(b) <= 4096 for b in bodies) and " ".join(bodies) == text


def test_split_text_edges() -> None:
    assert split_text("") == [""]
    assert split_text("a" * 4096) == ["a" * 4096]
    assert split_text("a" * 5000) == ["a" * 4096, "a" * 904]
    assert split_text("line\n" * 1000, limit=100)[0] == ("line\n" * 20).rstrip()


async def test_attachments_are_uploaded_then_sent_as_media(sender: WhatsAppSender, graph: FakeGraph) -> None:
    files = (
        AttachmentView("label.png", "image/png", 4, b"\x89PNG"),
        AttachmentView("terms.pdf", "application/pdf", 3, b"%PD"),
    )
    await sender.send(_reply("Here you go", attachments=files))
    assert [u["filename"] for u in graph.uploads] == ["label.png", "terms.pdf"]
    assert graph.uploads[0]["data"] == b"\x89PNG" and graph.uploads[0]["type"] == "image/png"
    image, document = graph.sent[1], graph.sent[2]
    assert image["type"] == "image" and image["image"] == {"id": graph.uploads[0]["id"]}
    assert document["document"] == {"id": graph.uploads[1]["id"], "filename": "terms.pdf"}


async def test_template_json(sender: WhatsAppSender, graph: FakeGraph) -> None:
    await sender.send(_reply("preview", template="order_update", template_params=("Sofia", "1881")))
    assert graph.sent[0]["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Sofia"}, {"type": "text", "text": "1881"}],
            }
        ],
    }
    with pytest.raises(PermanentDeliveryError, match="not in"):
        await sender.send(_reply(template="unknown"))


async def test_error_codes(sender: WhatsAppSender, graph: FakeGraph) -> None:
    graph.fail(131047)
    with pytest.raises(PermanentDeliveryError) as window:
        await sender.send(_reply())
    assert "24 hours" in window.value.reason and window.value.remedy == "template"
    graph.fail(130429)
    with pytest.raises(TransientDeliveryError) as throughput:
        await sender.send(_reply())
    assert throughput.value.retry_after and "130429" in throughput.value.reason
    graph.fail(131056)
    with pytest.raises(TransientDeliveryError) as pair:
        await sender.send(_reply())
    assert pair.value.retry_after and "131056" in pair.value.reason
    graph.fail(190)
    with pytest.raises(PermanentDeliveryError, match="check WHATSAPP_ACCESS_TOKEN"):
        await sender.send(_reply())
    assert graph.sent == []


async def test_a_wrong_token_is_permanent(graph: FakeGraph) -> None:
    client = GraphClient(_settings(graph.url, token="expired"))
    try:
        with pytest.raises(PermanentDeliveryError, match="WHATSAPP_ACCESS_TOKEN"):
            await WhatsAppSender(_settings(graph.url, "expired"), client).send(_reply())
    finally:
        await client.close()


async def test_network_failure_is_transient() -> None:
    port = free_port()  # nothing listens there
    client = GraphClient(_settings(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(TransientDeliveryError, match="could not reach"):
            await WhatsAppSender(_settings(f"http://127.0.0.1:{port}"), client).send(_reply())
    finally:
        await client.close()


async def test_a_retry_after_a_partial_failure_does_not_resend_sent_parts(
    sender: WhatsAppSender, graph: FakeGraph
) -> None:
    text = "a" * 5000  # two parts
    graph.fail(131056, after=1)
    parts = MemoryParts()  # the outbox's records of this reply (the database, in the dispatcher)
    with pytest.raises(TransientDeliveryError):
        await sender.send(_reply(text, uid="partial"), parts)
    assert len(graph.sent) == 1 and parts.parts == {0: "wamid.OUT1"}
    first = await sender.send(_reply(text, uid="partial"), parts)
    assert first == "wamid.OUT1"
    assert [len(m["text"]["body"]) for m in graph.sent] == [4096, 904]


async def test_media_meta_refuses_is_refused_before_anything_is_sent(
    sender: WhatsAppSender, graph: FakeGraph
) -> None:
    gif = AttachmentView("dance.gif", "image/gif", 6, b"GIF89a")
    zipped = AttachmentView("logs.zip", "application/zip", 4, b"PK\x03\x04")
    big = 5 * 1024 * 1024 + 1
    huge_photo = AttachmentView("photo.jpg", "image/jpeg", big, b"\xff" * big)
    for bad in (gif, zipped, huge_photo):
        ok = AttachmentView("label.png", "image/png", 4, b"\x89PNG")
        with pytest.raises(PermanentDeliveryError) as refused:
            await sender.send(_reply("Here you go", uid=bad.filename, attachments=(ok, bad)))
        assert bad.filename in refused.value.reason and refused.value.remedy == "none"
    assert graph.sent == [] and graph.uploads == [] and graph.refusals == []


async def test_each_accepted_type_goes_out_as_its_message_type(
    sender: WhatsAppSender, graph: FakeGraph
) -> None:
    files = (
        AttachmentView("voice.ogg", "audio/ogg; codecs=opus", 4, b"OggS"),
        AttachmentView("clip.3gp", "video/3gpp", 4, b"3gp5"),
        AttachmentView("smile.webp", "image/webp", 12, b"RIFF....WEBP"),
        AttachmentView("notes.txt", "text/plain", 2, b"hi"),
    )
    await sender.send(_reply("", attachments=files))
    assert [m["type"] for m in graph.sent] == ["audio", "video", "sticker", "document"]
    assert graph.refusals == []


def test_media_refusals_name_the_file_and_what_whatsapp_takes() -> None:
    from adapters.whatsapp.sender import media_refusal

    assert media_refusal(AttachmentView("dance.gif", "image/gif", 6, b"GIF89a")) == (
        "WhatsApp does not take dance.gif (image/gif): it takes images as JPEG or PNG, videos as MP4 "
        "or 3GPP, audio as AAC, AMR, MP3, M4A or OGG, stickers as WebP, and documents as PDF, text, "
        "Word, Excel or PowerPoint files"
    )
    sticker = AttachmentView("big.webp", "image/webp", 200_000, b"RIFF" + b"x" * 199_996)
    assert media_refusal(sticker) == "big.webp is 195 KB; WhatsApp takes stickers up to 100 KB"
    animated = AttachmentView(
        "anim.webp", "image/webp", 200_000, b"RIFF....WEBPVP8X....ANIM" + b"x" * 199_976
    )
    assert media_refusal(animated) is None
    assert media_refusal(AttachmentView("a.pdf", "application/pdf", 3, b"%PD")) is None
