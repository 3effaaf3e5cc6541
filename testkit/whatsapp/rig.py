"""A Threadline app on SQLite with the WhatsApp channel started against the fake Graph API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.whatsapp import SIGNATURE_HEADER, WhatsAppChannel, sign_body
from bot.clock import ManualClock
from testkit.app import started_app
from testkit.rig import Rig, configured
from testkit.settings import make_settings
from testkit.whatsapp.graph import PHONE_NUMBER_ID, TOKEN, FakeGraph, dumps
from threadline.app import Threadline

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "verify-me"


def whatsapp_config(graph_url: str, *, max_media_bytes: int = 1_000_000, extra: str = "") -> str:
    """The ``[web]`` and ``[channels.whatsapp]`` sections pointing at the fake Graph API."""
    return f"""
[web]
host = "127.0.0.1"
port = 0

[channels.whatsapp]
inbox = "whatsapp"
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "{TOKEN}"
app_secret = "{APP_SECRET}"
verify_token = "{VERIFY_TOKEN}"
graph_base_url = "{graph_url}"
max_media_bytes = {max_media_bytes}
mark_read_on_claim = true
{extra}

[channels.whatsapp.templates.order_update]
language = "en_US"
parameters = 2
body = "Hi {{{{1}}}}, your order {{{{2}}}} has shipped."

[channels.whatsapp.templates.follow_up]
language = "nl"

[channels.whatsapp.templates.delivery_slot]
language = "en_US"
header = "image"
named = ["first_name", "slot"]
buttons = ["quick_reply", "url"]
body = "Hi {{{{first_name}}}}, your delivery slot is {{{{slot}}}}."
"""


@dataclass
class WhatsAppRig(Rig):
    """A running app with the WhatsApp channel, its webhook URL, and the fake Graph API."""

    graph: FakeGraph
    http: aiohttp.ClientSession
    channel: WhatsAppChannel

    @classmethod
    def around(cls, app: Threadline, clock: ManualClock, graph: FakeGraph) -> WhatsAppRig:
        """The rig of an app with the WhatsApp channel (found once, here), with its own HTTP client."""
        return cls(app, clock, graph, aiohttp.ClientSession(), configured(app.whatsapp, "WhatsApp"))

    async def close(self) -> None:
        """Close the rig's HTTP client and stop the app."""
        await self.http.close()
        await self.app.stop()

    @property
    def url(self) -> str:
        """The app's WhatsApp webhook URL."""
        return f"{self.app.web.url}/webhooks/whatsapp"

    async def post(self, payload: Any, *, signature: str | None = None, raw: bytes | None = None) -> int:
        """POST a webhook body signed with the app secret (or with ``signature``); the HTTP status."""
        body = raw if raw is not None else dumps(payload)
        if raw is None and signature is None:
            self.graph.saw_webhook(payload)  # Meta knows when the customer wrote
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature if signature is not None else sign_body(APP_SECRET, body),
        }
        async with self.http.post(self.url, data=body, headers=headers) as response:
            return response.status

    async def deliver(self, payload: Any) -> None:
        """POST, wait until the worker processed it, and deliver the outbox."""
        assert await self.post(payload) == 200
        await self.settle()

    async def settle(self) -> None:
        """Let the webhook worker and the outbox finish."""
        await self.channel.idle()
        await self.drain()


async def build_rig(
    tmp_path: Path, graph: FakeGraph, clock: ManualClock, *, more_config: str = "", **config: Any
) -> WhatsAppRig:
    """An app on SQLite with the WhatsApp channel started (worker + web server); the outbox driven by hand.

    ``more_config`` is TOML put before the WhatsApp sections (e.g. another inbox)."""
    settings = make_settings(
        f"sqlite:///{tmp_path}/threadline.db",
        tmp_path / "out",
        more_config + whatsapp_config(graph.url, **config),
    )
    app = await started_app(settings, clock)
    graph.now = clock.now
    rig = WhatsAppRig.around(app, clock, graph)
    await app.journal.start()
    await rig.channel.start()
    await app.web.start()
    return rig
