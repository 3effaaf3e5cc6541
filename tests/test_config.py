"""Configuration: the example is valid; every error names the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError
from threadline.config import load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """
[surfaces.local]
[inboxes.support]
channel = "email"
address = "support@example.com"
chat_channel = "support"
[channels.email]
outgoing_dir = "out"
"""


def test_example_config_is_valid() -> None:
    settings = load_config(ROOT / "config.example.toml", env={})
    assert settings.inbox("support").channel == "email"
    assert settings.surfaces.local is not None


def _problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, env or {})
    return info.value.problems


def test_unknown_key_suggests_the_right_spelling() -> None:
    (problem,) = _problems(
        MINIMAL.replace('chat_channel = "support"', 'chat_channel = "support"\ntimezon = "UTC"')
    )
    assert problem.startswith("inboxes.support.timezon: unknown key; did you mean 'timezone'?")


def test_wrong_type_names_the_key() -> None:
    (problem,) = _problems(MINIMAL + "[outbox]\nmax_attempts = 'many'\n")
    assert problem.startswith("outbox.max_attempts:") and "'many'" in problem


def test_missing_secret_names_the_variable() -> None:
    text = MINIMAL.replace(
        'outgoing_dir = "out"',
        '[channels.email.smtp]\nhost = "smtp.example.com"\nusername = "u"\npassword = "${SMTP_PASSWORD}"',
    )
    (problem,) = _problems(text)
    assert problem.startswith("channels.email.smtp.password: environment variable SMTP_PASSWORD is not set")
    settings = parse_config(text, {"SMTP_PASSWORD": "s3cret"})
    assert settings.channels.email is not None and settings.channels.email.smtp is not None
    assert settings.channels.email.smtp.password == "s3cret"


def test_inbox_on_unknown_surface_and_bad_values() -> None:
    text = MINIMAL.replace(
        'chat_channel = "support"',
        'chat_channel = "support"\nsurface = "slack"\ntimezone = "Mars/Olympus"\nreopen_window = "soon"',
    )
    problems = _problems(text)
    assert any(p.startswith("inboxes.support.timezone: unknown time zone 'Mars/Olympus'") for p in problems)
    assert any(p.startswith("inboxes.support.reopen_window: 'soon' is not a duration") for p in problems)
    text = MINIMAL.replace('chat_channel = "support"', 'chat_channel = "support"\nsurface = "slack"')
    (problem,) = _problems(text)
    assert problem.startswith("inboxes.support.surface: surface 'slack' is not configured")


def test_bad_toml_and_missing_keys() -> None:
    assert "not valid TOML" in _problems("[inboxes\n")[0]
    problems = _problems("[surfaces.local]\n[inboxes.support]\nchannel = 'email'\n")
    assert (
        "inboxes.support.address: required key is missing; add it (see config.example.toml) (line 2)"
        in problems
    )


def test_whatsapp_channel_must_feed_a_known_inbox() -> None:
    text = MINIMAL + (
        '[channels.whatsapp]\ninbox = "whatsap"\nphone_number_id = "1"\naccess_token = "t"\n'
        'app_secret = "s"\nverify_token = "v"\n'
    )
    problems = _problems(text)
    assert "channels.whatsapp.inbox: no inbox 'whatsap'; use one of: support (line 10)" in problems


NINE_MISTAKES = """
[surfaces.local]
colour = true

[inboxes.support]
channel = "email"
address = "support@example.com"
chat_channel = "support"
timezone = "Europe/Amsterdm"

[inboxes.sales]
channel = "whatsapp"
address = "+31 20 123 4567"
chat_channel = "sales"
surface = "slack"

[channels.email]
outgoing_dir = "out"
[channels.email.mailboxes.support]
inbox = "suport"
host = "imap.example.com"
username = "support@example.com"
password = "${IMAP_PASSWORD}"

[digests.daily]
surface = "discord"
chat_channel = "digest"
inboxes = ["support", "billing"]
oldest = 99
"""


def test_every_mistake_is_reported_in_one_run_with_its_line() -> None:
    problems = _problems(NINE_MISTAKES, {})
    expected = [
        "surfaces.local.colour: unknown key; did you mean 'color'?",
        "inboxes.support.timezone: unknown time zone 'Europe/Amsterdm'",
        "inboxes.sales.surface: surface 'slack' is not configured",
        "inboxes.sales.channel: channel 'whatsapp' is not configured",
        "channels.email.mailboxes.support.password: environment variable IMAP_PASSWORD is not set",
        "channels.email.mailboxes.support.inbox: no inbox 'suport'",
        "digests.daily.surface: surface 'discord' is not configured",
        "digests.daily.inboxes[1]: no inbox 'billing'",
        "digests.daily.oldest: Input should be less than or equal to 25",
    ]
    lines = {
        "colour": 3,
        "timezone": 9,
        "sales.surface": 15,
        "sales.channel": 12,
        "password": 23,
        "mailboxes.support.inbox": 20,
        "daily.surface": 26,
        "daily.inboxes": 28,
        "oldest": 29,
    }
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    for key, line in lines.items():
        assert any(key in p.split(":")[0] and p.endswith(f"(line {line})") for p in problems), (key, problems)


def test_a_secret_written_in_the_file_is_warned_about() -> None:
    from threadline.config import config_warnings

    text = MINIMAL.replace(
        'outgoing_dir = "out"', 'outgoing_dir = "out"\n[surfaces.discord]\nbot_token = "abc.def"'
    )
    assert config_warnings(text) == [
        "surfaces.discord.bot_token: a secret is written in the file;"
        ' write bot_token = "${DISCORD_BOT_TOKEN}" and set DISCORD_BOT_TOKEN in the environment (line 10)'
    ]
    assert config_warnings(text.replace('"abc.def"', '"${DISCORD_TOKEN}"')) == []
