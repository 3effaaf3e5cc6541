"""``threadline doctor`` for Slack against the strict fake Web API, through slack_sdk."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.doctor import NEEDED_SCOPES, slack_checkup
from adapters.slack.settings import SlackSettings
from bot.ports.doctor import CheckResult
from testkit.slack.fake import MANIFEST_SCOPES, FakeSlack
from testkit.workers import free_port

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-manifest.yaml"


def _settings(url: str, token: str = "xoxb-test") -> SlackSettings:
    return SlackSettings(bot_token=token, mode="http", signing_secret="s", api_base_url=url)


async def _run(settings: SlackSettings, channels: list[str]) -> list[CheckResult]:
    return [result async for result in slack_checkup(settings, channels)]


async def test_a_good_setup_passes_every_check(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("C_SUPPORT", "support")
    results = await _run(_settings(fake_slack.url), ["C_SUPPORT"])
    assert [r.ok for r in results] == [True, True, True]
    assert "@threadline (UBOT) in team Acme" in results[0].what
    assert results[1].what == f"scopes: all {len(NEEDED_SCOPES)} granted"
    assert results[2].where == "slack channel C_SUPPORT" and "#support" in results[2].what


async def test_a_wrong_token_says_which_token_to_copy_and_never_shows_it(fake_slack: FakeSlack) -> None:
    results = await _run(_settings(fake_slack.url, "xoxb-wrong-1234"), ["C_SUPPORT"])
    assert len(results) == 1 and not results[0].ok
    assert "Bot User OAuth Token" in results[0].fix
    assert "xoxb-wrong" not in results[0].fix + results[0].what


async def test_missing_scopes_are_named(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("C_SUPPORT", "support")
    fake_slack.scopes = MANIFEST_SCOPES.replace("files:read,", "").replace(",users:read.email", "")
    results = await _run(_settings(fake_slack.url), ["C_SUPPORT"])
    scopes = results[1]
    assert not scopes.ok and scopes.what == f"scopes: 2 of {len(NEEDED_SCOPES)} missing"
    assert "files:read, users:read.email" in scopes.fix and "reinstall" in scopes.fix


async def test_the_bot_outside_a_channel_is_told_to_be_invited(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("C_SUPPORT", "support", member=False)
    results = await _run(_settings(fake_slack.url), ["C_SUPPORT", "C_GONE"])
    gone, support = results[2], results[3]
    assert not gone.ok and gone.where == "slack channel C_GONE" and "check the id" in gone.fix
    assert not support.ok and support.fix == "type /invite @threadline in #support"


async def test_an_unreachable_slack_is_a_failed_check() -> None:
    results = await _run(_settings(f"http://127.0.0.1:{free_port()}/api/"), ["C_SUPPORT"])
    assert len(results) == 1 and not results[0].ok
    assert results[0].fix.startswith("cannot reach 127.0.0.1:")


def test_the_needed_scopes_are_the_manifests() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    bot = text.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    assert tuple(re.findall(r"^\s+- ([a-z:.]+)", bot, re.MULTILINE)) == NEEDED_SCOPES
    assert MANIFEST_SCOPES.split(",") == list(NEEDED_SCOPES)
