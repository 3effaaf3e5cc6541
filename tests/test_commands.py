"""The command grammar: every command, and every malformed form answering with usage."""

from __future__ import annotations

import pytest

from bot.commands import grammar as c
from bot.commands import model as m
from bot.commands.help import help_text

VALID = {
    "claim": m.ParsedCommand(m.Claim()),
    "CLAIM": m.ParsedCommand(m.Claim()),
    "assign @bob": m.ParsedCommand(m.Assign("@bob")),
    "assign #42 @bob": m.ParsedCommand(m.Assign("@bob"), 42),
    "#42 assign bob": m.ParsedCommand(m.Assign("bob"), 42),
    "unassign": m.ParsedCommand(m.Unassign()),
    "label +refund -billing": m.ParsedCommand(m.LabelChange(("refund",), ("billing",))),
    "label vip": m.ParsedCommand(m.LabelChange(("vip",), ())),
    "labels": m.ParsedCommand(m.Labels()),
    "note call back tomorrow": m.ParsedCommand(m.Note("call back tomorrow")),
    "reply Thanks!  See you": m.ParsedCommand(m.ReplyToCustomer("Thanks!  See you")),
    "reply --confirm ok": m.ParsedCommand(m.ReplyToCustomer("ok", confirm=True)),
    "snooze 2h": m.ParsedCommand(m.Snooze("2h")),
    "snooze tomorrow 9:00": m.ParsedCommand(m.Snooze("tomorrow 9:00")),
    "close": m.ParsedCommand(m.Close()),
    "reopen": m.ParsedCommand(m.Reopen()),
    "unsnooze": m.ParsedCommand(m.Reopen()),
    "history": m.ParsedCommand(m.History()),
    "retry": m.ParsedCommand(m.Retry()),
    "priority URGENT": m.ParsedCommand(m.Priority("urgent")),
    "list": m.ParsedCommand(m.ListConversations("open")),
    "list mine": m.ParsedCommand(m.ListConversations("mine")),
    "help": m.ParsedCommand(m.Help()),
    "help reply": m.ParsedCommand(m.Help("reply")),
    "close #7": m.ParsedCommand(m.Close(), 7),
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
def test_valid_commands_parse(text: str, expected: m.ParsedCommand) -> None:
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


def test_the_typed_command_builders_check_what_the_grammar_checks() -> None:
    assert c.template_send("refund_done", '"Jane Doe" 42') == m.Template("refund_done", ("Jane Doe", "42"))
    assert c.template_send("list") == m.Template("list")  # an option's name is a name, never a subcommand
    with pytest.raises(c.CommandError, match="unbalanced quotes"):
        c.template_send("refund_done", '"Jane')
    with pytest.raises(c.CommandError, match="say which template"):
        c.template_send("  ")
    assert c.snooze_until(" #2 2h ") == m.Snooze("#2 2h")  # resolved (and refused) by the core as a time
    with pytest.raises(c.CommandError, match="say until when"):
        c.snooze_until("")
    assert c.help_on("ls") == m.Help("list") and c.help_on(None) == m.Help()
    with pytest.raises(c.CommandError, match="no command '#1 claim'"):
        c.help_on("#1 claim")
    with pytest.raises(c.CommandError, match="say who"):
        c.assign_to("")
    assert c.parse_command("snooze #2 2h") == m.ParsedCommand(m.Snooze("2h"), 2)  # a line names #2
