"""Fixtures for the Discord surface tests: the fake Discord REST API and an app logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import yarl

from adapters.discord.settings import DEFAULT_DISCORD_API, DEFAULT_DISCORD_GATEWAY
from bot.clock import ManualClock
from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import DiscordRig, build_app


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fresh fake Discord on 127.0.0.1:0; discord.py's base URL is restored afterwards.

    A call to a route the fake does not know fails the test that made it.
    """
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()
    assert server.unknown == [], "the code called Discord routes the fake does not know"
    discord.http.Route.BASE = DEFAULT_DISCORD_API
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(DEFAULT_DISCORD_GATEWAY)


@pytest.fixture
async def harness(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[DiscordRig]:
    """An app (SQLite, recorded email sender), support inbox in a text channel, logged in (REST only)."""
    clock = ManualClock()
    channel = fake.add_text_channel("support")
    app, sender = build_app(fake, tmp_path, clock, channel)
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    yield DiscordRig.around(app, clock, fake, sender, channel)
    await app.stop()
