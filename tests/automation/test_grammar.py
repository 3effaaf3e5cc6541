"""The teamwork commands in the one grammar: valid forms and malformed ones answering with usage."""

from __future__ import annotations

import pytest

from bot.commands import grammar as c
from bot.commands import model as m

VALID = {
    "away": m.ParsedCommand(m.Away()),
    "back": m.ParsedCommand(m.Back()),
    "profile #42": m.ParsedCommand(m.Profile(), 42),
    "contact merge #4 jane@example.org": m.ParsedCommand(m.ContactMerge("#4", "jane@example.org")),
    "note --contact prefers calls": m.ParsedCommand(m.PinContactNote("prefers calls")),
    "note about --contact": m.ParsedCommand(m.Note("about --contact")),
    "template list": m.ParsedCommand(m.TemplateList()),
    "template preview thanks": m.ParsedCommand(m.TemplatePreview("thanks")),
    "template save hours We're open 9-17": m.ParsedCommand(m.TemplateSave("hours", "We're open 9-17")),
    "template save shipped": m.ParsedCommand(m.TemplateSave("shipped")),
    "#7 template thanks": m.ParsedCommand(m.Template("thanks"), 7),
    'template order_update 1881 "Jane Doe"': m.ParsedCommand(
        m.Template("order_update", ("1881", "Jane Doe"))
    ),
}

MALFORMED = {
    "away now": "away takes no arguments",
    "contact merge a": "usage: contact merge A B",
    "contact split a b": "usage: contact merge A B",
    "note --contact": "note --contact needs some text",
    "template list all": "template list takes no arguments",
    "template preview": "say which template",
    "template save": "say under which name",
    "template save list x": "cannot be a template name",
    "template save bad!name x": "cannot be a template name",
}


@pytest.mark.parametrize(("text", "expected"), VALID.items())
def test_valid(text: str, expected: m.ParsedCommand) -> None:
    assert c.parse_command(text) == expected


@pytest.mark.parametrize(("text", "expected"), MALFORMED.items())
def test_malformed(text: str, expected: str) -> None:
    with pytest.raises(c.CommandError, match=expected):
        c.parse_command(text)
