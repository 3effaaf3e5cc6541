"""``threadline doctor`` for Discord against the strict fake REST API."""

from __future__ import annotations

from adapters.discord.doctor import NEEDED_PERMISSIONS, discord_checkup
from adapters.discord.settings import DiscordSettings
from bot.ports.doctor import CheckResult
from testkit.discord.fake import BOT_ROLE_ID, INVITE_PERMISSIONS, FakeDiscord
from testkit.workers import free_port

MANAGE_THREADS = 1 << 34
SEND_MESSAGES = 1 << 11


def _settings(fake: FakeDiscord, token: str = "fake-token", **more: object) -> DiscordSettings:
    return DiscordSettings.model_validate({"bot_token": token, "api_base_url": fake.base_url, **more})


async def _run(settings: DiscordSettings, channels: list[int]) -> list[CheckResult]:
    return [result async for result in discord_checkup(settings, [str(c) for c in channels])]


def test_the_needed_permissions_are_the_invite_urls() -> None:
    assert sum(NEEDED_PERMISSIONS.values()) == INVITE_PERMISSIONS


async def test_a_good_setup_passes_every_check(fake: FakeDiscord) -> None:
    channel = fake.add_text_channel("support")
    results = await _run(_settings(fake), [channel])
    assert [r.ok for r in results] == [True, True, True]
    assert results[0].what.startswith("bot token valid: @threadline")
    assert results[2].what == f"bot's permissions in #support: all {len(NEEDED_PERMISSIONS)}"


async def test_a_wrong_token_is_refused_and_never_shown(fake: FakeDiscord) -> None:
    results = await _run(_settings(fake, "wrong.token.value"), [fake.add_text_channel()])
    assert len(results) == 1 and not results[0].ok
    assert "Developer Portal → Bot" in results[0].fix and "wrong.token" not in results[0].fix


async def test_the_message_content_intent_turned_off_is_named(fake: FakeDiscord) -> None:
    fake.gateway.enabled.clear()
    results = await _run(_settings(fake), [])
    assert not results[1].ok and "Message Content Intent" in results[1].fix


async def test_missing_permissions_in_a_channel_are_named(fake: FakeDiscord) -> None:
    fake.bot_permissions = INVITE_PERMISSIONS & ~MANAGE_THREADS
    denied = fake.add_text_channel("escalations")  # the bot's role may not post here
    fake.channels[denied]["permission_overwrites"] = [
        {"id": str(BOT_ROLE_ID), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
    ]
    results = await _run(_settings(fake), [denied])
    assert not results[2].ok and results[2].what == "bot's permissions in #escalations: 2 missing"
    assert results[2].fix.startswith("give the bot's role Send Messages, Manage Threads in #escalations")


async def test_an_unknown_channel_says_to_check_the_id(fake: FakeDiscord) -> None:
    results = await _run(_settings(fake), [123456789])
    assert not results[2].ok and "check the id" in results[2].fix


async def test_a_forum_that_requires_tags_needs_a_default_tag(fake: FakeDiscord) -> None:
    forum = fake.add_forum_channel("inbox", ("billing", "general"), require_tag=True)
    results = await _run(_settings(fake), [forum])
    assert not results[3].ok
    assert "set surfaces.discord.default_forum_tag to one of: billing, general" in results[3].fix
    results = await _run(_settings(fake, default_forum_tag="general"), [forum])
    assert results[3].ok and results[3].what == "forum tags: default 'general'"
    results = await _run(_settings(fake, default_forum_tag="sales"), [forum])
    assert not results[3].ok and "'sales' is not a tag of #inbox" in results[3].fix


async def test_an_unreachable_discord_is_a_failed_check() -> None:
    settings = DiscordSettings(bot_token="t", api_base_url=f"http://127.0.0.1:{free_port()}/api/v10")
    results = await _run(settings, [1])
    assert len(results) == 1 and results[0].fix.startswith("cannot reach 127.0.0.1:")
