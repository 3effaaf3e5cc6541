"""Secrets never leave: no configuration error, and no repr of the settings, shows a secret's value."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from bot.config import ConfigError
from threadline.config import AppSettings as Settings
from threadline.config import parse_config

SECRET_NAME = re.compile(r"token(?!_url)|secret|password|api_key|private_key")  # an endpoint URL is no secret
MARK = "s3cr3t-MARK-7731"

LOCAL = """
[surfaces.local]
[inboxes.support]
channel = "email"
address = "support@example.com"
chat_channel = "support"
"""


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[type[BaseModel]]:
    if model in seen:
        return []
    seen.add(model)
    found = [model]
    for field in model.model_fields.values():
        stack: list[Any] = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += _models(kind, seen)
            stack.extend(get_args(kind))
    return found


def test_every_secret_setting_is_declared_secret() -> None:
    secrets = [
        (model.__name__, name, field.repr)
        for model in _models(Settings, set())
        for name, field in model.model_fields.items()
        if SECRET_NAME.search(name)
    ]
    assert secrets, "the settings models were not walked"
    assert [s for s in secrets if s[2] is not False] == []


def _problems(text: str, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, env)
    return "\n".join(info.value.problems)


CASES = {
    "slack socket mode without app_token": (
        '[surfaces.slack]\nbot_token = "${SLACK_BOT_TOKEN}"\nsigning_secret = "${SLACK_SIGNING_SECRET}"\n'
        'mode = "socket"\n',
        {"SLACK_BOT_TOKEN": f"xoxb-{MARK}", "SLACK_SIGNING_SECRET": MARK},
    ),
    "slack bot token of the wrong kind": (
        '[surfaces.slack]\nbot_token = "${SLACK_BOT_TOKEN}"\napp_token = "${SLACK_APP_TOKEN}"\n',
        {"SLACK_BOT_TOKEN": f"xoxp-{MARK}", "SLACK_APP_TOKEN": f"xapp-{MARK}"},
    ),
    "whatsapp with an unknown key beside its secrets": (
        '[channels.whatsapp]\ninbox = "support"\nphone_number_id = "1"\naccess_token = "${T}"\n'
        'app_secret = "${S}"\nverify_token = "${V}"\nphone_numbr = "2"\n',
        {"T": MARK, "S": MARK, "V": MARK},
    ),
    "email mailbox missing its host": (
        '[channels.email]\n[channels.email.mailboxes.support]\ninbox = "support"\nusername = "u"\n'
        'password = "${IMAP_PASSWORD}"\n',
        {"IMAP_PASSWORD": MARK},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_configuration_errors_never_show_a_secret(case: str) -> None:
    section, env = CASES[case]
    shown = _problems(LOCAL + section, env)
    assert shown  # the mistake is reported ...
    assert MARK not in shown  # ... without the secret


def test_settings_repr_never_shows_a_secret() -> None:
    settings = parse_config(
        LOCAL.replace("[surfaces.local]", '[surfaces.local]\n[surfaces.discord]\nbot_token = "${D}"')
        + '[channels.email]\noutgoing_dir = "out"\n',
        {"D": MARK},
    )
    assert MARK not in repr(settings) and MARK not in str(settings.surfaces)
