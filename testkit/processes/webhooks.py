"""Meta's side of the crash tests: an instance's settings with the WhatsApp channel, and signed
webhooks posted to one instance (remembering which got their 200)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime

import aiohttp

from adapters.whatsapp import SIGNATURE_HEADER, sign_body
from testkit.processes.procs import Instance
from testkit.settings import SettingsBuilder
from testkit.slack.rig import slack_surface
from testkit.whatsapp.graph import PHONE_NUMBER_ID
from testkit.whatsapp.payloads import envelope, message

SECRET = "crash-app-secret"


def webhook_instance(db: str, *, port: int, instance: str, quick_outbox: bool = True) -> SettingsBuilder:
    """An instance's settings: JSON logs at info, its web server on 127.0.0.1:``port``, outbox claims
    of 2 s (a killed run's rows come back quickly) and, with ``quick_outbox``, retries within a second."""
    settings = (
        SettingsBuilder(db, log_level="info")
        .set("threadline", log_format="json")
        .set("ops", instance_name=instance, claim_seconds=2)
        .set("web", host="127.0.0.1", port=port)
    )
    if quick_outbox:
        settings.set("outbox", backoff_base_seconds=0.2, backoff_max_seconds=1.0, poll_interval_seconds=0.1)
    return settings


def add_whatsapp(
    settings: SettingsBuilder,
    surface: str,
    chat_channel: str,
    *,
    graph_url: str = "http://127.0.0.1:9",
    access_token: str = "crash-token",
) -> SettingsBuilder:
    """The WhatsApp inbox (mirrored to ``surface``) and channel of the crash tests' instances; the
    Graph API is unreachable unless ``graph_url`` names a fake one."""
    return settings.inbox(
        "whatsapp",
        name="WhatsApp",
        channel="whatsapp",
        address="+31205550100",
        surface=surface,
        chat_channel=chat_channel,
    ).set(
        "channels.whatsapp",
        inbox="whatsapp",
        phone_number_id=PHONE_NUMBER_ID,
        access_token=access_token,
        app_secret=SECRET,
        verify_token="crash-verify",
        graph_base_url=graph_url,
    )


def webhook_body(n: int) -> bytes:
    """Customer ``n``'s webhook: one text message from their own number (their own conversation)."""
    wa_id = f"3161{n:07d}"
    sent = datetime.fromtimestamp(1767603600, UTC)
    body = {"body": f"where is my order {1000 + n}?"}
    text = message("text", body, when=sent, wamid=f"wamid.CRASH{n:05d}", wa_id=wa_id)
    return json.dumps(envelope(messages=[text], name=f"Customer {n}", wa_id=wa_id)).encode()


class Webhooks:
    """Posts signed webhooks to one instance and remembers which got their 200."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        self.health = f"http://127.0.0.1:{port}/healthz"
        self.acked: set[int] = set()
        self.refused: Counter[int] = Counter()  # status (or 0: no answer) -> count

    async def up(self, instance: Instance, timeout: float = 60.0) -> None:
        """Wait until the instance answers ``/healthz``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                assert instance.alive, instance.stderr()[-3000:]
                try:
                    async with http.get(self.health) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"instance not up:\n{instance.stderr()[-3000:]}")

    async def post(self, numbers: list[int]) -> None:
        """Post the webhooks of ``numbers`` concurrently (as Meta does); record what got a 200."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

            async def one(n: int) -> None:
                body = webhook_body(n)
                headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(SECRET, body)}
                try:
                    async with http.post(self.url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status == 200:
                            self.acked.add(n)
                        else:
                            self.refused[response.status] += 1
                except aiohttp.ClientError:
                    self.refused[0] += 1

            await asyncio.gather(*(one(n) for n in numbers))


def slack_instance(db: str, port: int, api_url: str) -> SettingsBuilder:
    """An instance mirroring into the fake Slack at ``api_url`` (HTTP mode), with the outbox's own
    backoff (``webhook_instance`` without the quick outbox)."""
    settings = webhook_instance(db, port=port, instance="slack-a", quick_outbox=False)
    return settings.set("surfaces.slack", **slack_surface(api_url))
