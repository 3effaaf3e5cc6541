"""A Discord card is opened once, even after a crash: a real ``threadline run`` (WhatsApp in, the inbox a
forum or a text channel on the fake Discord), on SQLite and PostgreSQL, killed right after Discord
created the card's thread and before the outbox recorded it (thread creation takes no nonce), then
restarted: the team sees exactly one thread for the conversation, with the card and the message once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import yarl

from adapters.discord.settings import DEFAULT_DISCORD_API, DEFAULT_DISCORD_GATEWAY
from testkit.discord.fake import GUILD_ID, FakeDiscord
from testkit.processes.procs import Instance, until
from testkit.processes.state import rows
from testkit.processes.webhooks import Webhooks, add_whatsapp, webhook_instance
from testkit.workers import free_port


def _settings(db: str, port: int, fake: FakeDiscord, channel: int) -> str:
    """The instance's config: the crash tests' webhook instance mirroring WhatsApp into ``channel``."""
    settings = webhook_instance(db, port=port, instance="discord-a").set(
        "surfaces.discord",
        bot_token="fake-token",
        api_base_url=fake.base_url,
        gateway_url=fake.gateway_url,
        guild_ids=[GUILD_ID],
        sync_commands=False,
        pace_messages=50,
        pace_seconds=1.0,
    )
    return add_whatsapp(settings, "discord", str(channel)).toml()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord REST API and gateway; no route the fake does not know may be called."""
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()
    assert server.unknown == [], "the instance called Discord routes the fake does not know"
    discord.http.Route.BASE = DEFAULT_DISCORD_API
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(DEFAULT_DISCORD_GATEWAY)


@pytest.mark.parametrize("kind", ["forum", "text"])
async def test_killed_after_the_thread_was_created_opens_one_thread(
    process_db: str, fake: FakeDiscord, tmp_path: Path, kind: str
) -> None:
    channel = fake.add_forum_channel("inbox") if kind == "forum" else fake.add_text_channel("inbox")
    port = free_port()
    config = tmp_path / "discord.toml"
    config.write_text(_settings(process_db, port, fake, channel))
    instance = Instance(config, tmp_path, "discord")
    hooks = Webhooks(port)
    instance.start("thread_created:1")  # Discord made the thread and card; dies before it is stored
    await hooks.up(instance)
    await hooks.post([0])
    assert await instance.exited(120) == 137, instance.stderr()[-3000:]
    assert len(fake.threads()) == 1  # the crashed attempt opened it
    assert rows(process_db, "SELECT count(*) FROM threads") == [(0,)]  # not stored

    instance.start()
    await until(
        lambda: (
            rows(process_db, "SELECT count(*) FROM outbox WHERE status = 'pending'") == [(0,)]
            and bool(rows(process_db, "SELECT id FROM outbox WHERE kind = 'post' AND status = 'done'"))
        ),
        90,
        "the card and the message delivered",
        instance,
    )
    instance.terminate()
    assert await instance.exited() == 0
    threads = fake.threads()
    assert len(threads) == 1, threads  # the team sees one thread, the adopted one
    posts = fake.posts(int(threads[0]["id"]))
    cards = [m for m in posts if m.get("embeds") and str(m["embeds"][0].get("title", "")).startswith("#1")]
    assert len(cards) == 1  # one card
    shown = [m for m in posts if m not in cards and "where is my order 1000?" in str(m)]
    assert len(shown) == 1, posts  # the customer's message once (the card shows it as its subject too)
    assert "adopted" in instance.stderr()
