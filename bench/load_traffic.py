"""The traffic of ``bench/bench_load.py``: customers' WhatsApp webhooks over 10 business numbers,
retried after a refusal as Meta does, and agents typing Slack slash commands, timed until Slack
would get its acknowledgement."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

from adapters.whatsapp import SIGNATURE_HEADER, sign_body
from testkit.slack.payloads import slash_fields
from testkit.slack.signing import signed_headers
from testkit.whatsapp.payloads import envelope, message

__all__ = ["APP_SECRET", "INBOXES", "Load", "phone"]

INBOXES = 10
APP_SECRET = "bench-app-secret"


def phone(i: int) -> str:
    """The phone number id of business number ``i`` (inbox ``wa{i}``)."""
    return f"20{i:04d}"


def _webhook(n: int) -> bytes:
    wa_id = f"3163{n:07d}"
    text = message(
        "text",
        {"body": f"load message {n}: where is my parcel?"},
        when=datetime.now(UTC),
        wamid=f"wamid.LOAD{n:07d}",
        wa_id=wa_id,
    )
    body = envelope(messages=[text], name=f"Customer {n}", wa_id=wa_id, phone_number_id=phone(n % INBOXES))
    return json.dumps(body).encode()


def _slash(agent: int, text: str) -> tuple[bytes, dict[str, str]]:
    fields = slash_fields(text, user=f"UAGENT{agent:02d}", channel="C_WA0", channel_name="wa0")
    body = urlencode(fields)
    return body.encode(), signed_headers(body, content_type="application/x-www-form-urlencoded")


class Load:
    """The traffic and what was measured."""

    def __init__(self, url: str, conversations: int) -> None:
        self.url = url
        self.conversations = conversations
        self.sent = 0
        self.refused: Counter[str] = Counter()  # status (or "connection") -> webhook attempts refused
        self.acks: list[float] = []  # command acknowledgement, ms
        self.command_errors: Counter[str] = Counter()

    async def customers(self, http: aiohttp.ClientSession, rate: float, until: float) -> None:
        """Webhooks at ``rate`` per second, each retried until acknowledged (as Meta does)."""
        start = time.monotonic()
        tasks: list[asyncio.Task[None]] = []
        n = 0
        while time.monotonic() < until:
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(self._post(http, n)))
            n += 1
        await asyncio.gather(*tasks)

    async def _post(self, http: aiohttp.ClientSession, n: int) -> None:
        body = _webhook(n)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(APP_SECRET, body)}
        for _ in range(50):
            try:
                async with http.post(self.url + "/webhooks/whatsapp", data=body, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        self.sent += 1
                        return
                    self.refused[str(r.status)] += 1
            except aiohttp.ClientError:
                self.refused["connection"] += 1
            await asyncio.sleep(1.0)

    async def agent(self, http: aiohttp.ClientSession, agent: int, think: float, until: float) -> None:
        """One agent: a slash command every ``think`` s (jittered), timing Slack's wait for the ack."""
        rng = random.Random(agent)
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < until:
            number = rng.randint(1, self.conversations)
            body, headers = _slash(agent, f"claim #{number}")
            started = time.perf_counter()
            try:
                async with http.post(self.url + "/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        self.acks.append((time.perf_counter() - started) * 1000)
                    else:
                        self.command_errors[str(r.status)] += 1
            except aiohttp.ClientError:
                self.command_errors["connection"] += 1
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
