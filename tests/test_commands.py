"""The command grammar: every command, and every malformed form answering with usage."""

from __future__ import annotations

import pytest

from bot.commands import grammar as c
from bot.commands.help import help_text

VALID = {
    "claim": c.ParsedCommand(c.Claim()),
    "CLAIM": c.ParsedCommand(c.Claim()),
    "assign @bob": c.ParsedCommand(c.Assign("@bob")),
    "assign #42 @bob": c.ParsedCommand(c.Assign("@bob"), 42),
    "#42 assign bob": c.ParsedCommand(c.Assign("bob"), 42),
    "unassign": c.ParsedCommand(c.Unassign()),
    "label +refund -billing": c.ParsedCommand(c.LabelChange(("refund",), ("billing",))),
    "label vip": c.ParsedCommand(c.LabelChange(("vip",), ())),
    "labels": c.ParsedCommand(c.Labels()),
    "note call back tomorrow": c.ParsedCommand(c.Note("call back tomorrow")),
    "reply Thanks!  See you": c.ParsedCommand(c.Reply("Thanks!  See you")),
    "reply --confirm ok": c.ParsedCommand(c.Reply("ok", confirm=True)),
    "snooze 2h": c.ParsedCommand(c.Snooze("2h")),
    "snooze tomorrow 9:00": c.ParsedCommand(c.Snooze("tomorrow 9:00")),
    "close": c.ParsedCommand(c.Close()),
    "reopen": c.ParsedCommand(c.Reopen()),
    "unsnooze": c.ParsedCommand(c.Reopen()),
    "history": c.ParsedCommand(c.History()),
    "retry": c.ParsedCommand(c.Retry()),
    "priority URGENT": c.ParsedCommand(c.Priority("urgent")),
    "list": c.ParsedCommand(c.ListConversations("open")),
    "list mine": c.ParsedCommand(c.ListConversations("mine")),
    "help": c.ParsedCommand(c.Help()),
    "help reply": c.ParsedCommand(c.Help("reply")),
    "close #7": c.ParsedCommand(c.Close(), 7),
}

MALFORMED = {
    "": "say what to do",
    "dance": "unknown command 'dance'",
    "assign": "usage: assign @teammate",
    "assign bob carol": "usage: assign",
    "label": "usage: label",
    "label +": "usage: label",
    "label +<script>": "is not a label",
    "note": "note needs some text",
    "reply": "reply needs some text",
    "reply --confirm": "reply needs some text",
    "snooze": "say until when",
    "close now": "close takes no arguments",
    "claim me": "claim takes no arguments",
    "priority extreme": "usage: priority",
    "list everything": "usage: list",
    "help dance": "no command 'dance'",
}


@pytest.mark.parametrize(("text", "expected"), VALID.items())
def test_valid_commands_parse(text: str, expected: c.ParsedCommand) -> None:
    assert c.parse_command(text) == expected
    assert c.parse_command("!" + text, "!") == expected if text else True


@pytest.mark.parametrize(("text", "message"), MALFORMED.items())
def test_malformed_commands_answer_with_usage(text: str, message: str) -> None:
    with pytest.raises(c.CommandError) as info:
        c.parse_command(text)
    assert message in str(info.value)


def test_prefix_detection() -> None:
    assert c.is_command("!claim", "!")
    assert c.is_command("  !claim", "!")
    assert not c.is_command("! claim", "!")
    assert not c.is_command("!", "!")
    assert not c.is_command("thanks!", "!")


def test_every_command_has_help() -> None:
    text = help_text(None, "!")
    for name in c.COMMANDS:
        assert f"!{name}" in text
    assert help_text("snooze", "!").startswith("!snooze 2h")
