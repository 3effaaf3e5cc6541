"""The teamwork commands in the one grammar: valid forms and malformed ones answering with usage."""

from __future__ import annotations

import pytest

from bot.commands import grammar as c
from bot.commands import grammar_team as t

VALID = {
    "away": c.ParsedCommand(t.Away()),
    "back": c.ParsedCommand(t.Back()),
    "profile #42": c.ParsedCommand(t.Profile(), 42),
    "contact merge #4 jane@example.org": c.ParsedCommand(t.ContactMerge("#4", "jane@example.org")),
    "note --contact prefers calls": c.ParsedCommand(t.ContactNote("prefers calls")),
    "note about --contact": c.ParsedCommand(c.Note("about --contact")),
    "template list": c.ParsedCommand(t.TemplateList()),
    "template preview thanks": c.ParsedCommand(t.TemplatePreview("thanks")),
    "template save hours We're open 9-17": c.ParsedCommand(t.TemplateSave("hours", "We're open 9-17")),
    "template save shipped": c.ParsedCommand(t.TemplateSave("shipped")),
    "#7 template thanks": c.ParsedCommand(c.Template("thanks"), 7),
    'template order_update 1881 "Jane Doe"': c.ParsedCommand(
        c.Template("order_update", ("1881", "Jane Doe"))
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
def test_valid(text: str, expected: c.ParsedCommand) -> None:
    assert c.parse_command(text) == expected


@pytest.mark.parametrize(("text", "expected"), MALFORMED.items())
def test_malformed(text: str, expected: str) -> None:
    with pytest.raises(c.CommandError, match=expected):
        c.parse_command(text)
