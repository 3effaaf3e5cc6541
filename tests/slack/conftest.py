"""Fixtures for the Slack surface: the fake Web API, and a Threadline app on SQLite wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.rig import configured
from testkit.slack.fake import FakeSlack
from testkit.slack.rig import SlackRig, slack_settings
from threadline.app import Threadline


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
) -> AsyncIterator[Callable[..., Awaitable[SlackRig]]]:
    """Build worlds (optionally with extra [surfaces.slack] keys); each app's database is prepared."""
    worlds: list[SlackRig] = []

    async def build(
        extra_slack: str = "",
        *,
        mode: str = "http",
        extra: str = "",
        env: dict[str, str] | None = None,
        undo: int = 0,
    ) -> SlackRig:
        builder = slack_settings(
            tmp_path, fake_slack.url, mode=mode, undo=undo, extra_slack=extra_slack, extra=extra
        )
        settings = builder.settings(env)
        clock = ManualClock()
        app = Threadline(settings, clock=clock)
        await app.prepare_database()
        await app.sync_agents()
        await app.journal.start()  # acknowledged Slack work is replayed from the intake journal
        built = SlackRig(app, clock, fake_slack, tmp_path / "sent-mail", configured(app.slack, "Slack"))
        worlds.append(built)
        return built

    yield build
    for built in worlds:
        await built.slack.stop()
        await built.app.journal.stop()
        await built.app.store.close()


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[SlackRig]]) -> SlackRig:
    """The default world: anyone in the workspace may act."""
    return await make_world()
