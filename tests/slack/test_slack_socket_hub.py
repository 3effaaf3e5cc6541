"""The fake's Socket Mode server behaves as Slack documents: envelopes spread over every open
connection, an unacknowledged Events API envelope comes again with ``retry_attempt``, a slash
command does not, and a cut connection gets nothing more."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from testkit.slack.fake import FakeSlack
from testkit.waiting import until


async def _connect(http: aiohttp.ClientSession, fake: FakeSlack) -> aiohttp.ClientWebSocketResponse:
    app_token = {"Authorization": "Bearer xapp-test"}
    async with http.post(fake.url + "apps.connections.open", headers=app_token) as r:
        url = (await r.json())["url"]
    ws = await http.ws_connect(url)
    hello = await ws.receive_json()
    assert hello["type"] == "hello"
    return ws


async def _read(ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]], ack: bool) -> None:
    async for message in ws:
        envelope = json.loads(message.data)
        into.append(envelope)
        if ack:
            await ws.send_json({"envelope_id": envelope["envelope_id"]})


async def test_envelopes_are_spread_and_unacked_events_come_again() -> None:
    fake = await FakeSlack().start()
    fake.socket.ack_seconds = 0.3
    fake.socket.retry_seconds = 0.05
    try:
        async with aiohttp.ClientSession() as http:
            acking, silent = await _connect(http, fake), await _connect(http, fake)
            got: dict[str, list[dict[str, Any]]] = {"acking": [], "silent": []}
            readers = [
                asyncio.create_task(_read(acking, got["acking"], ack=True)),
                asyncio.create_task(_read(silent, got["silent"], ack=False)),
            ]
            events = [fake.socket.deliver("events_api", {"event_id": f"Ev{n}"}) for n in range(4)]
            await until("every event acknowledged", lambda: len(fake.socket_acks) == 4)
            assert len(got["silent"]) >= 2  # its share of the first attempts, never acknowledged
            retried = [e for e in got["acking"] if e["retry_attempt"] > 0]
            assert {e["payload"]["event_id"] for e in retried} == {
                e["payload"]["event_id"] for e in got["silent"]
            }
            assert all(e["retry_reason"] == "timeout" for e in retried)
            assert not any(fake.socket.acked(envelope) for envelope in events[1::2])

            fake.socket.deliver("slash_commands", {"command": "/inbox"})
            fake.socket.deliver("slash_commands", {"command": "/inbox"})
            await asyncio.sleep(0.6)
            slashes = [e for box in got.values() for e in box if e["type"] == "slash_commands"]
            assert len(slashes) == 2  # one attempt each: Slack does not retry a slash command

            await silent.close()
            await until("the cut connection is closed on the server", lambda: len(fake.socket.open()) == 1)
            before = len(got["silent"])
            for n in range(3):
                fake.socket.deliver("events_api", {"event_id": f"Late{n}"})

            def late() -> set[str]:
                return {e["payload"].get("event_id") for e in got["acking"]} & {"Late0", "Late1", "Late2"}

            await until("later events acknowledged", lambda: len(late()) == 3)
            assert len(got["silent"]) == before
            later = [e for e in got["acking"] if e["payload"].get("event_id") in late()]
            assert all(e["retry_attempt"] == 0 for e in later)
            await acking.close()
            for reader in readers:
                reader.cancel()
    finally:
        await fake.stop()
