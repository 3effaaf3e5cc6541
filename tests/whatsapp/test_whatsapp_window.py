"""Core rules for WhatsApp: the 24-hour window, the template command, and the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands.grammar import CommandError, parse_command
from bot.commands.model import Template
from bot.config import ConfigError
from bot.domain import DomainError
from bot.windows import describe_age, render_template, window_refusal
from testkit.settings import make_settings
from testkit.whatsapp.rig import whatsapp_config
from threadline.config import parse_config

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path, whatsapp_config("http://127.0.0.1:9"))


def test_template_command_grammar() -> None:
    assert parse_command('!template order_update "Sofia Jansen" 1881', "!").command == Template(
        "order_update", ("Sofia Jansen", "1881")
    )
    assert parse_command("#42 template follow_up").number == 42
    with pytest.raises(CommandError, match="which template"):
        parse_command("template")
    with pytest.raises(CommandError, match="quotes"):
        parse_command('template x "open')


def test_window(settings) -> None:
    assert window_refusal(settings, "whatsapp", NOW - timedelta(hours=23, minutes=59), NOW) is None
    assert window_refusal(settings, "email", NOW - timedelta(days=30), NOW) is None
    closed = window_refusal(settings, "whatsapp", NOW - timedelta(hours=27), NOW)
    assert closed is not None
    assert closed.startswith("The WhatsApp 24 h window closed 3 h ago (the customer last wrote 27 h ago)")
    assert "!template NAME" in closed and "follow_up, order_update" in closed
    assert "has not written" in (window_refusal(settings, "whatsapp", None, NOW) or "")


def test_describe_age() -> None:
    assert [describe_age(timedelta(minutes=m)) for m in (5, 90, 60 * 30, 60 * 72, 60 * 75)] == [
        "5 min",
        "1 h",
        "30 h",
        "3 d",
        "3 d 3 h",
    ]


def test_render_template(settings) -> None:
    rendered = render_template(settings, "whatsapp", "order_update", ("Ann", "7"))
    assert rendered.text == "Hi Ann, your order 7 has shipped."
    assert rendered.meta == {
        "template": "order_update",
        "template_params": ["Ann", "7"],
        "template_language": "en_US",
    }
    assert render_template(settings, "whatsapp", "follow_up", ()).text == "[template follow_up]"
    with pytest.raises(DomainError, match="on email just use !reply"):
        render_template(settings, "email", "follow_up", ())
    with pytest.raises(DomainError, match="Known templates: delivery_slot, follow_up, order_update"):
        render_template(settings, "whatsapp", "nope", ())


def test_settings_validation(tmp_path: Path) -> None:
    base = '[inboxes.w]\nchannel = "whatsapp"\naddress = "+1"\nchat_channel = "w"\n[surfaces.local]\n'
    section = (
        '[channels.whatsapp]\ninbox = "w"\nphone_number_id = "1"\naccess_token = "${{WA_TOKEN}}"\n'
        'app_secret = "s"\nverify_token = "v"\n{extra}'
    )
    ok = parse_config(base + section.format(extra=""), env={"WA_TOKEN": "tok"})
    assert ok.channels.whatsapp is not None and ok.channels.whatsapp.access_token == "tok"
    assert ok.channels.whatsapp.graph_api_version == "v26.0" and ok.web.port == 8080
    assert "tok" not in repr(ok.channels.whatsapp)
    with pytest.raises(ConfigError, match="WA_TOKEN is not set"):
        parse_config(base + section.format(extra=""), env={})
    with pytest.raises(ConfigError, match="graph_api_version"):
        parse_config(base + section.format(extra='graph_api_version = "latest"\n'), env={"WA_TOKEN": "t"})
    with pytest.raises(ConfigError, match="parameters"):
        parse_config(
            base + section.format(extra='[channels.whatsapp.templates.t]\nbody = "Hi {{{{1}}}}"\n'),
            env={"WA_TOKEN": "t"},
        )
