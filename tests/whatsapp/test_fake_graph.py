"""The fake Graph API keeps Meta's promises: it refuses what the Cloud API documents it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from testkit.whatsapp.graph import PHONE_NUMBER_ID, TOKEN, VERSION, FakeGraph
from testkit.whatsapp.payloads import CUSTOMER, CUSTOMER_BSUID, envelope, message

_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _post(graph: FakeGraph, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{graph.url}/{VERSION}/{PHONE_NUMBER_ID}/messages"
    async with aiohttp.ClientSession(headers=headers) as http, http.post(url, json=body) as response:
        return response.status, await response.json()


async def _upload(graph: FakeGraph, data: bytes, mime: str) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", mime)
    form.add_field("file", data, filename="f", content_type=mime)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{graph.url}/{VERSION}/{PHONE_NUMBER_ID}/media"
    async with aiohttp.ClientSession(headers=headers) as http, http.post(url, data=form) as response:
        return response.status, await response.json()


def _code(answer: dict[str, Any]) -> int:
    return int(answer["error"]["code"])


def _text(**to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", **to, "type": "text", "text": {"body": "hi"}}


async def test_media_types_and_sizes_per_message_type(graph: FakeGraph) -> None:
    assert (await _upload(graph, b"GIF89a", "image/gif"))[0] == 400
    assert _code((await _upload(graph, b"PK\x03\x04", "application/zip"))[1]) == 131053
    assert _code((await _upload(graph, b"x" * (5 * 1024 * 1024 + 1), "image/jpeg"))[1]) == 131053
    ok, jpeg = await _upload(graph, b"\xff\xd8\xff", "image/jpeg")
    assert ok == 200
    # a JPEG sent as a document, or a static sticker over 100 KB, is refused at send time
    status, answer = await _post(graph, {**_text(to=CUSTOMER), "type": "document", "document": jpeg})
    assert status == 400 and _code(answer) == 131053
    _, sticker = await _upload(graph, b"RIFF....WEBPVP8 " + b"x" * 200_000, "image/webp")
    assert (
        _code((await _post(graph, {**_text(to=CUSTOMER), "type": "sticker", "sticker": sticker}))[1])
        == 131053
    )
    assert (await _post(graph, {**_text(to=CUSTOMER), "type": "image", "image": jpeg}))[0] == 200


async def test_recipient_formats(graph: FakeGraph) -> None:
    assert _code((await _post(graph, _text(to="+31 6 1234 5678")))[1]) == 100
    assert _code((await _post(graph, _text(to=CUSTOMER_BSUID)))[1]) == 100
    assert _code((await _post(graph, _text(recipient=CUSTOMER)))[1]) == 100
    assert _code((await _post(graph, _text()))[1]) == 100
    status, answer = await _post(graph, _text(recipient=CUSTOMER_BSUID))
    assert status == 200 and answer["contacts"] == [{"input": CUSTOMER_BSUID, "user_id": CUSTOMER_BSUID}]
    status, answer = await _post(graph, _text(to=CUSTOMER, recipient=CUSTOMER_BSUID))
    assert status == 200 and answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]  # `to` wins


async def test_template_parameter_counts(graph: FakeGraph) -> None:
    def template(name: str, language: str, *components: dict[str, Any]) -> dict[str, Any]:
        body = {"name": name, "language": {"code": language}, "components": list(components)}
        return {**_text(to=CUSTOMER), "type": "template", "template": body}

    one = {"type": "body", "parameters": [{"type": "text", "text": "Sofia"}]}
    two = {"type": "body", "parameters": [{"type": "text", "text": "Sofia"}, {"type": "text", "text": "1"}]}
    assert _code((await _post(graph, template("order_update", "en_US", one)))[1]) == 132000
    assert _code((await _post(graph, template("nope", "en_US", two)))[1]) == 132001
    assert (await _post(graph, template("order_update", "en_US", two)))[0] == 200
    named = {
        "type": "body",
        "parameters": [
            {"type": "text", "parameter_name": "first_name", "text": "Sofia"},
            {"type": "text", "parameter_name": "slot", "text": "9-12"},
        ],
    }
    header = {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/y.jpg"}}]}
    buttons = [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": "ok"}],
        },
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "1881"}]},
    ]
    assert _code((await _post(graph, template("delivery_slot", "en_US", named, *buttons)))[1]) == 132000
    assert _code((await _post(graph, template("delivery_slot", "en_US", header, two, *buttons)))[1]) == 132000
    assert (await _post(graph, template("delivery_slot", "en_US", header, named, *buttons)))[0] == 200


async def test_the_window_follows_metas_timestamps(graph: FakeGraph) -> None:
    now = _NOW
    graph.now = lambda: now
    assert _code((await _post(graph, _text(to=CUSTOMER)))[1]) == 131047
    wrote = now - timedelta(hours=23)
    graph.saw_webhook(envelope(messages=[message("text", {"body": "hi"}, when=wrote)]))
    assert (await _post(graph, _text(to=CUSTOMER)))[0] == 200
    now += timedelta(hours=2)
    assert _code((await _post(graph, _text(to=CUSTOMER)))[1]) == 131047
    graph.saw_webhook(
        envelope(
            wa_id=None,
            user_id=CUSTOMER_BSUID,
            messages=[message("text", {"body": "hi"}, when=now, wa_id=None, user_id=CUSTOMER_BSUID)],
        )
    )
    assert (await _post(graph, _text(recipient=CUSTOMER_BSUID)))[0] == 200


def test_bsuid_only_payloads_have_no_phone_anywhere() -> None:
    payload = envelope(
        wa_id=None,
        user_id=CUSTOMER_BSUID,
        username="@sofia",
        messages=[message("text", {"body": "hi"}, when=_NOW, wa_id=None, user_id=CUSTOMER_BSUID)],
    )
    value = payload["entry"][0]["changes"][0]["value"]
    assert "from" not in value["messages"][0] and value["messages"][0]["from_user_id"] == CUSTOMER_BSUID
    assert value["contacts"] == [
        {"profile": {"name": "Sofia Jansen", "username": "@sofia"}, "user_id": CUSTOMER_BSUID}
    ]


async def test_a_message_without_messaging_product_whatsapp_is_refused(graph: FakeGraph) -> None:
    body = {k: v for k, v in _text(to=CUSTOMER).items() if k != "messaging_product"}
    status, answer = await _post(graph, body)
    assert status == 400 and _code(answer) == 100 and graph.sent == []
    assert (await _post(graph, _text(to=CUSTOMER)))[0] == 200
