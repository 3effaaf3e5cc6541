"""A Threadline app on SQLite mirroring an email inbox into the fake Slack (channel C_SUPPORT)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.ports.inbound import InboundMessage
from testkit.slack.fake import FakeSlack
from threadline.app import Threadline

CHANNEL = "C_SUPPORT"
_MESSAGE_IDS = itertools.count(1)


def slack_config(tmp: Path, api_url: str, *, extra_slack: str = "", extra: str = "") -> str:
    """A configuration with one email inbox mirrored into Slack channel C_SUPPORT (HTTP mode, signed)."""
    return f"""
[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)

[threadline]
database_url = "sqlite:///{tmp}/threadline.db"

[surfaces.slack]
bot_token = "xoxb-test"
signing_secret = "test-signing-secret"
mode = "http"
api_base_url = "{api_url}"
rate_limit_retries = 0
pace_per_second = 1000
pace_burst = 1000
{extra_slack}

[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "slack"
chat_channel = "{CHANNEL}"

[channels.email]
outgoing_dir = "{tmp}/sent-mail"
{extra}
"""


@dataclass
class SlackRig:
    """The app, its fake Slack, the clock and helpers that tests share."""

    app: Threadline
    fake: FakeSlack
    clock: ManualClock
    outgoing: Path

    @property
    def slack(self):
        assert self.app.slack is not None
        return self.app.slack

    async def dispatch(self, request):
        """Dispatch a signed request through bolt, like the HTTP route would; return bolt's response."""
        return await self.slack.app.async_dispatch(request)

    async def settle(self) -> None:
        """Finish acknowledged work, then deliver everything due."""
        await self.slack.settle()
        await self.app.dispatcher.drain()

    async def email(
        self,
        text: str,
        *,
        subject: str = "Refund for order 1881",
        sender: str = "ann@example.com",
        name: str = "Ann Customer",
        external_id: str | None = None,
        refs: tuple[str, ...] = (),
    ) -> int:
        """A customer email arrives; returns its conversation number."""
        result = await self.app.ingestor.ingest(
            InboundMessage(
                channel="email",
                inbox="support",
                external_id=external_id or f"<m{next(_MESSAGE_IDS)}@example.com>",
                sender_address=sender,
                sender_name=name,
                received_at=self.clock.now(),
                text=text,
                subject=subject,
                thread_refs=refs,
            )
        )
        assert result.conversation_number is not None
        return result.conversation_number

    def card(self, index: int = -1) -> dict:
        """A card (root message) in the support channel, as the fake holds it now."""
        return self.fake.roots(CHANNEL)[index]

    def advance(self, seconds: float) -> None:
        """Move the app's clock."""
        self.clock.advance(timedelta(seconds=seconds))
