"""The webhook: handshake, signature check, 200 only once journaled (else 503), dedupe of redeliveries."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy import select

from adapters.whatsapp import sign_body, verify_signature
from storage.journal import JournalEntry
from storage.repo_conversations import ConversationFilter
from testkit.whatsapp.graph import PHONE_NUMBER_ID, dumps
from testkit.whatsapp.payloads import CUSTOMER, envelope, message, status
from testkit.whatsapp.rig import APP_SECRET, VERIFY_TOKEN, WhatsAppRig


async def _count_inbound(rig: WhatsAppRig) -> int:
    async with rig.app.store.transaction() as uow:
        total = 0
        for conversation in await uow.conversations.list_conversations(ConversationFilter(limit=1000)):
            total += len(await uow.messages.messages_of(conversation.id, ["inbound"]))
        return total


async def test_handshake_echoes_the_challenge_only_for_the_right_token(rig: WhatsAppRig) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    async with rig.http.get(rig.url, params=query) as response:
        assert response.status == 200 and await response.text() == "1158201444"
    async with rig.http.get(rig.url, params={**query, "hub.verify_token": "wrong"}) as response:
        assert response.status == 403
    async with rig.http.get(rig.url, params={**query, "hub.mode": "unsubscribe"}) as response:
        assert response.status == 403


async def test_healthz_on_the_shared_server(rig: WhatsAppRig) -> None:
    async with rig.http.get(f"{rig.app.web.url}/healthz") as response:
        assert response.status == 200 and await response.text() == "ok"


async def test_forged_and_missing_signatures_are_refused_and_nothing_is_stored(rig: WhatsAppRig) -> None:
    payload = envelope(messages=[message("text", {"body": "hi"}, when=rig.clock.now())])
    body = dumps(payload)
    assert await rig.post(payload, signature=sign_body("not-the-secret", body)) == 401
    assert await rig.post(payload, signature="sha256=" + "0" * 64) == 401
    assert await rig.post(payload, signature="") == 401
    # a valid signature of a different body (body tampered in transit)
    assert await rig.post(payload, raw=body + b" ", signature=sign_body(APP_SECRET, body)) == 401
    async with rig.http.post(rig.url, data=body) as response:  # no header at all
        assert response.status == 401
    await rig.settle()
    assert await _count_inbound(rig) == 0
    assert rig.channel.receiver.rejected == 5 and rig.channel.receiver.accepted == 0


async def test_a_redelivered_message_is_stored_once(rig: WhatsAppRig) -> None:
    payload = envelope(
        messages=[message("text", {"body": "Where is my order?"}, wamid="wamid.DUP1", when=rig.clock.now())]
    )
    assert await rig.post(payload) == 200
    assert await rig.post(payload) == 200  # Meta retries: same wamid
    await rig.settle()
    assert await _count_inbound(rig) == 1
    local = rig.app.local
    assert local is not None
    thread = next(iter(local.threads.values()))
    assert thread.texts("inbound") == ["Where is my order?"]
    assert thread.card.customer == "Sofia Jansen" and thread.card.customer_address == "31612345678"


async def test_deliveries_for_another_number_and_garbage_are_ignored(rig: WhatsAppRig) -> None:
    other = envelope(messages=[message("text", {"body": "x"}, when=rig.clock.now())], phone_number_id="999")
    assert await rig.post(other) == 200
    assert await rig.post(None, raw=b"not json") == 200
    assert await rig.post({"object": "whatsapp_business_account", "entry": [{"changes": [{}]}]}) == 200
    await rig.settle()
    assert await _count_inbound(rig) == 0


def test_signature_helpers() -> None:
    body = b'{"a":1}'
    assert verify_signature("s", body, sign_body("s", body))
    assert verify_signature("s", body, sign_body("s", body).upper().replace("SHA256=", "sha256="))
    assert not verify_signature("s", body, None)
    assert not verify_signature("s", body, "md5=abc")


async def test_webserver_binds_port_zero_and_refuses_late_routes() -> None:
    from adapters.web import WebServer

    server = WebServer("127.0.0.1", 0)
    assert not server.has_routes
    await server.start()
    try:
        assert server.port > 0
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as response:
            assert await response.text() == "ok"

        async def late(request: web.Request) -> web.Response:
            return web.Response(text="late")

        try:
            server.add_route("GET", "/late", late)
        except RuntimeError:
            pass
        else:
            raise AssertionError("routes added after start must be refused")
    finally:
        await server.stop()
    assert not server.running


async def test_while_stopping_new_deliveries_get_503_and_earlier_ones_are_stored(rig: WhatsAppRig) -> None:
    now = rig.clock.now()
    first = envelope(messages=[message("text", {"body": "before the stop"}, when=now, wamid="wamid.A")])
    assert await rig.post(first) == 200
    await rig.app.journal.close()
    late = envelope(messages=[message("text", {"body": "too late"}, when=now, wamid="wamid.B")])
    async with rig.http.post(
        rig.url, data=dumps(late), headers={"X-Hub-Signature-256": sign_body(APP_SECRET, dumps(late))}
    ) as response:
        assert response.status == 503 and response.headers["Retry-After"] == "30"
    await rig.app.journal.drain(5.0)
    assert await _count_inbound(rig) == 1  # Meta redelivers the refused one to the next instance


async def test_a_body_the_database_cannot_take_answers_503_so_meta_retries() -> None:
    from adapters.web import WebServer
    from adapters.whatsapp import WebhookReceiver
    from adapters.whatsapp.settings import WhatsAppSettings
    from storage.db import DatabaseUnavailable

    settings = WhatsAppSettings.model_validate(
        {
            "inbox": "w",
            "phone_number_id": "1",
            "access_token": "t",
            "app_secret": APP_SECRET,
            "verify_token": "v",
        }
    )
    recorded: list[bytes] = []

    async def record(body: bytes) -> None:
        if recorded:
            raise DatabaseUnavailable("database error (OperationalError)")
        recorded.append(body)

    receiver = WebhookReceiver(settings, record)
    server = WebServer("127.0.0.1", 0)
    server.add_routes(receiver.routes())
    await server.start()
    try:
        body = b'{"object":"whatsapp_business_account","entry":[]}'
        headers = {"X-Hub-Signature-256": sign_body(APP_SECRET, body)}
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(2):
                async with http.post(
                    f"{server.url}/webhooks/whatsapp", data=body, headers=headers
                ) as response:
                    statuses.append(response.status)
        assert statuses == [200, 503]
        assert recorded == [body]
    finally:
        await server.stop()


async def test_media_of_a_redelivered_message_is_not_downloaded_again(rig: WhatsAppRig) -> None:
    rig.graph.media["img1"] = (b"\xff\xd8\xff a photo", "image/jpeg")
    photo = message("image", {"id": "img1", "mime_type": "image/jpeg"}, when=rig.clock.now(), wamid="wamid.P")
    payload = envelope(messages=[photo])
    await rig.deliver(payload)
    await rig.deliver(payload)  # Meta redelivers (e.g. our 200 was lost on the way)
    assert rig.graph.downloads == ["img1"]
    assert await _count_inbound(rig) == 1


async def test_a_signed_body_that_is_not_json_is_kept_as_failed_and_later_messages_are_stored(
    rig: WhatsAppRig,
) -> None:
    assert await rig.post(None, raw=b"{not json") == 200  # signed by Meta's secret: acknowledged, kept
    payload = envelope(messages=[message("text", {"body": "still here"}, when=rig.clock.now())])
    await rig.deliver(payload)
    assert await _count_inbound(rig) == 1
    async with rig.app.store.transaction() as uow:
        assert await uow.journal.counts() == {"done": 1, "failed": 1}


async def test_one_senders_webhooks_are_journaled_under_one_ordering_key_and_receipts_under_none(
    rig: WhatsAppRig,
) -> None:
    now = rig.clock.now()
    await rig.app.journal.stop()  # the worker is down: the rows stay as journaled
    for text in ("first", "second"):
        assert await rig.post(envelope(messages=[message("text", {"body": text}, when=now)])) == 200
    other = envelope(
        messages=[
            message(
                "text",
                {
                    "body": "hi",
                },
                when=now,
                wa_id="31699999999",
            )
        ],
        wa_id="31699999999",
    )
    assert await rig.post(other) == 200
    assert await rig.post(envelope(statuses=[status("wamid.OUT1", "read", when=now)])) == 200
    async with rig.app.store.transaction() as uow:
        rows = (await uow.session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars().all()
        assert [r.ordering_key for r in rows] == [
            f"{PHONE_NUMBER_ID}:{CUSTOMER}",
            f"{PHONE_NUMBER_ID}:{CUSTOMER}",
            f"{PHONE_NUMBER_ID}:31699999999",
            None,
        ]
    await rig.app.journal.start()
    await rig.settle()
    thread = next(t for t in rig.app.local.threads.values() if t.card.customer_address == CUSTOMER)  # type: ignore[union-attr]
    assert thread.texts("inbound") == ["first", "second"]
