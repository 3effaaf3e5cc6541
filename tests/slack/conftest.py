"""Fixtures for the Slack surface: the fake Web API, and a Threadline app on SQLite wired to it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.ports.inbound import InboundMessage
from tests.slack.slack_fake import FakeSlack
from threadline.app import Threadline
from threadline.config import parse_config

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
class SlackWorld:
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


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack Web API with Alice and Bob as users."""
    fake = await FakeSlack().start()
    fake.add_user("UALICE", "Alice", "alice@example.com")
    fake.add_user("UBOB", "Bob", "bob@example.com")
    fake.add_user("UMALLORY", "Mallory", "mallory@example.com")
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def make_world(
    tmp_path: Path, fake_slack: FakeSlack
) -> AsyncIterator[Callable[..., Awaitable[SlackWorld]]]:
    """Build worlds (optionally with extra [surfaces.slack] keys); each app's database is prepared."""
    worlds: list[SlackWorld] = []

    async def build(
        extra_slack: str = "",
        *,
        mode: str = "http",
        extra: str = "",
        env: dict[str, str] | None = None,
        undo: int = 0,
    ) -> SlackWorld:
        text = slack_config(tmp_path, fake_slack.url, extra_slack=extra_slack, extra=extra)
        text = text.replace("undo_seconds = 0 ", f"undo_seconds = {undo} ")
        settings = parse_config(text.replace('mode = "http"', f'mode = "{mode}"'), env=env or {})
        clock = ManualClock()
        app = Threadline(settings, clock=clock)
        await app.prepare_database()
        await app.sync_agents()
        await app.journal.start()  # acknowledged Slack work is replayed from the intake journal
        built = SlackWorld(app, fake_slack, clock, tmp_path / "sent-mail")
        worlds.append(built)
        return built

    yield build
    for built in worlds:
        await built.slack.stop()
        await built.app.journal.stop()
        await built.app.store.close()


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[SlackWorld]]) -> SlackWorld:
    """The default world: anyone in the workspace may act."""
    return await make_world()
