"""Configuration of chat-native intake: each mistake named by its key, with the fix."""

from __future__ import annotations

import pytest

from bot.config import ConfigError
from threadline.config import parse_config

BASE = """
[surfaces.slack]
bot_token = "xoxb-test"
signing_secret = "s"
mode = "http"
{slack}

[surfaces.discord]
bot_token = "t"
{discord}

[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "slack"
chat_channel = "C_STAFF"

[channels.email]
outgoing_dir = "/tmp/out"
{extra}
"""


def _problems(slack: str = "", discord: str = "", extra: str = "") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE.format(slack=slack, discord=discord, extra=extra), env={})
    return caught.value.problems


def test_dm_inbox_must_name_a_discord_inbox() -> None:
    problems = _problems(discord='dm_inbox = "support"')
    assert any(p.startswith("surfaces.discord.dm_inbox:") and 'channel = "discord"' in p for p in problems)


def test_slack_dm_inbox_must_name_a_slack_inbox() -> None:
    problems = _problems(slack='dm_inbox = "support"')
    assert any(
        p.startswith("surfaces.slack.dm_inbox: 'support' is no inbox with channel = \"slack\"")
        for p in problems
    )


def test_an_intake_channel_needs_a_slack_inbox_and_is_no_staff_channel() -> None:
    problems = _problems(slack='intake_channels = [{ channel = "C_STAFF", inbox = "support" }]')
    assert any(p.startswith("surfaces.slack.intake_channels[0].inbox:") for p in problems)
    assert any(
        p.startswith("surfaces.slack.intake_channels[0].channel:") and "separate" in p for p in problems
    )


def test_a_valid_intake_configuration() -> None:
    extra = """
[inboxes.help]
channel = "slack"
address = "#help"
surface = "slack"
chat_channel = "C_STAFF"

[inboxes.dms]
channel = "discord"
address = "bot"
surface = "discord"
chat_channel = "123"

[intake]
group_seconds = 60
opt_out_prefix = "[skip]"
"""
    settings = parse_config(
        BASE.format(
            slack='intake_channels = [{ channel = "C_HELP", inbox = "help" }]',
            discord='dm_inbox = "dms"',
            extra=extra,
        ),
        env={},
    )
    assert {"slack", "discord"} <= settings.channel_names()
    assert settings.intake.group_seconds == 60 and settings.intake.opt_out_prefix == "[skip]"
