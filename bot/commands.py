"""The one command grammar every surface shares (DESIGN §4).

``parse_command("assign #42 @alice")`` → ``ParsedCommand(Assign("alice"), number=42)``.
A ``#N`` conversation reference may stand before the command or right after its
name (``/inbox assign #42 @alice``). Errors are ``CommandError`` with a usage line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot import commands_team as team
from bot.inbound import InboundAttachment

__all__ = [
    "COMMANDS",
    "Assign",
    "Claim",
    "Close",
    "Command",
    "CommandError",
    "Help",
    "History",
    "LabelChange",
    "Labels",
    "ListConversations",
    "Note",
    "ParsedCommand",
    "Priority",
    "Reopen",
    "Reply",
    "Retry",
    "Snooze",
    "Template",
    "Unassign",
    "is_command",
    "parse_command",
]


@dataclass(frozen=True)
class Claim:
    """Assign the conversation to yourself."""


@dataclass(frozen=True)
class Assign:
    """Assign the conversation to a teammate (agent key, name or surface mention)."""

    who: str


@dataclass(frozen=True)
class Unassign:
    """Remove the assignee."""


@dataclass(frozen=True)
class LabelChange:
    """Add and remove labels."""

    add: tuple[str, ...]
    remove: tuple[str, ...]


@dataclass(frozen=True)
class Labels:
    """List every label in use."""


@dataclass(frozen=True)
class Note:
    """An internal note; never reaches the customer.

    ``shown`` means the team already sees it: it was typed as a message in the
    conversation's own thread, so it is stored but not posted there again.
    """

    text: str
    shown: bool = False


@dataclass(frozen=True)
class Reply:
    """A reply to the customer; ``confirm`` overrides the collision check; ``files`` go with it."""

    text: str
    confirm: bool = False
    files: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True)
class Template:
    """Send an approved message template (WhatsApp, outside the 24-hour window) with its parameters."""

    name: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snooze:
    """Snooze until a time given as text, resolved in the inbox's time zone."""

    spec: str


@dataclass(frozen=True)
class Close:
    """Close the conversation."""


@dataclass(frozen=True)
class Reopen:
    """Reopen a closed or snoozed conversation."""


@dataclass(frozen=True)
class History:
    """Show this contact's other conversations."""


@dataclass(frozen=True)
class Retry:
    """Send failed replies of the conversation again."""


@dataclass(frozen=True)
class Priority:
    """Set the priority: urgent, high, normal or low."""

    level: str


@dataclass(frozen=True)
class ListConversations:
    """List conversations: ``mine``, ``unassigned``, ``open``, ``snoozed``, ``closed`` or ``all``."""

    which: str


@dataclass(frozen=True)
class Help:
    """Show the commands, or one command's usage."""

    topic: str | None = None


Command = (
    Claim
    | Assign
    | Unassign
    | LabelChange
    | Labels
    | Note
    | Reply
    | Snooze
    | Close
    | Reopen
    | History
    | Retry
    | Priority
    | ListConversations
    | Help
    | Template
    | team.Away
    | team.Back
    | team.Profile
    | team.ContactNote
    | team.ContactMerge
    | team.TemplateList
    | team.TemplatePreview
    | team.TemplateSave
)


@dataclass(frozen=True)
class ParsedCommand:
    """A command and the conversation number it named, if any."""

    command: Command
    number: int | None = None


class CommandError(ValueError):
    """A command that could not be parsed; ``str()`` is a short message with the usage line."""


#: name -> (usage, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "claim": ("claim", "assign the conversation to yourself"),
    "assign": ("assign @teammate", "assign the conversation to a teammate"),
    "unassign": ("unassign", "remove the assignee"),
    "label": ("label +refund -billing", "add (+) and remove (-) labels; new labels are created"),
    "labels": ("labels", "list the labels in use"),
    "note": ("note [--contact] TEXT", "add an internal note (--contact: pinned to the customer's profile)"),
    "reply": ("reply TEXT", "send TEXT to the customer"),
    "template": (
        "template NAME [PARAM …] | list | preview NAME | save NAME [TEXT]",
        "send a canned reply (on WhatsApp: the approved template); list, preview or save them",
    ),
    "snooze": ("snooze 2h | 30m | tomorrow 9:00 | mon 9:00", "hide until then, or until the customer writes"),
    "close": ("close", "close the conversation"),
    "reopen": ("reopen", "reopen the conversation"),
    "history": ("history", "this customer's profile and other conversations (same as profile)"),
    "retry": ("retry", "send failed replies again"),
    "priority": ("priority urgent|high|normal|low", "set the priority"),
    "list": ("list mine|unassigned|open|snoozed|closed|all", "list conversations"),
    **team.TEAM_COMMANDS,
    "help": ("help [COMMAND]", "show this help"),
}

_ALIASES = {"unsnooze": "reopen", "open": "reopen", "ls": "list", "?": "help", "labels?": "labels"}
_NUMBER = re.compile(r"^#(\d{1,12})$")
_LIST_FILTERS = ("mine", "unassigned", "open", "snoozed", "closed", "all")
_PRIORITIES = ("urgent", "high", "normal", "low")
_LABEL = re.compile(r"^[\w][\w\-./:]{0,59}$", re.UNICODE)


def is_command(text: str, prefix: str) -> bool:
    """True when a thread message is a command (starts with the prefix followed by a word)."""
    stripped = text.lstrip()
    return stripped.startswith(prefix) and len(stripped) > len(prefix) and not stripped[len(prefix)].isspace()


def _usage(name: str) -> str:
    return f"usage: {COMMANDS[name][0]}"


def _take_number(tokens: list[str]) -> int | None:
    if tokens and (match := _NUMBER.match(tokens[0])):
        tokens.pop(0)
        return int(match.group(1))
    return None


def parse_command(text: str, prefix: str = "") -> ParsedCommand:
    """Parse one command line (with or without ``prefix``); raise CommandError when malformed."""
    body = text.strip()
    if prefix and body.startswith(prefix):
        body = body[len(prefix) :]
    head, _, rest_text = body.partition(" ")
    number = None
    if match := _NUMBER.match(head):
        number = int(match.group(1))
        head, _, rest_text = rest_text.strip().partition(" ")
    name = _ALIASES.get(head.lower(), head.lower())
    if not name:
        raise CommandError("say what to do; type help for the commands")
    if name not in COMMANDS:
        raise CommandError(f"unknown command '{head[:40]}'; type help for the commands")
    rest_text = rest_text.strip()
    if number is None and (match := _NUMBER.match(rest_text.partition(" ")[0])):
        number = int(match.group(1))
        rest_text = rest_text.partition(" ")[2].strip()
    return ParsedCommand(_build(name, rest_text), number)


def _no_args(name: str, rest: str, command: Command) -> Command:
    if rest:
        raise CommandError(f"{name} takes no arguments; {_usage(name)}")
    return command


def _build(name: str, rest: str) -> Command:
    simple: dict[str, Command] = {
        "claim": Claim(),
        "unassign": Unassign(),
        "labels": Labels(),
        "close": Close(),
        "reopen": Reopen(),
        "history": History(),
        "retry": Retry(),
    }
    if name in simple:
        return _no_args(name, rest, simple[name])
    if name in team.TEAM_COMMANDS:
        try:
            return team.build_team_command(name, rest)
        except team.TeamCommandError as exc:
            raise CommandError(str(exc)) from None
    if name == "assign":
        who = rest.strip()
        if not who or " " in who:
            raise CommandError(f"say who: {_usage(name)}")
        return Assign(who)
    if name == "label":
        return _label(rest)
    if name in ("note", "reply"):
        return _text_command(name, rest)
    if name == "snooze":
        if not rest:
            raise CommandError(f"say until when: {_usage(name)}")
        return Snooze(rest)
    if name == "template":
        return _template(rest)
    if name == "priority":
        if rest.lower() not in _PRIORITIES:
            raise CommandError(_usage(name))
        return Priority(rest.lower())
    if name == "list":
        which = rest.lower() or "open"
        if which not in _LIST_FILTERS:
            raise CommandError(_usage(name))
        return ListConversations(which)
    topic = rest.lower() or None
    if topic is not None and _ALIASES.get(topic, topic) not in COMMANDS:
        raise CommandError(f"no command '{rest[:40]}'; type help for the commands")
    return Help(_ALIASES.get(topic, topic) if topic else None)


def _text_command(name: str, rest: str) -> Command:
    if name == "note":  # note --contact TEXT
        try:
            if (pinned := team.contact_note(rest)) is not None:
                return pinned
        except team.TeamCommandError as exc:
            raise CommandError(str(exc)) from None
    confirm = False
    if name == "reply" and rest.startswith("--confirm"):
        confirm, rest = True, rest[len("--confirm") :].strip()
    if not rest:
        raise CommandError(f"{name} needs some text; {_usage(name)}")
    return Reply(rest, confirm) if name == "reply" else Note(rest)


def _label(rest: str) -> LabelChange:
    add: list[str] = []
    remove: list[str] = []
    for token in rest.split():
        sign, label = token[:1], token[1:]
        if sign not in "+-" or not label:
            sign, label = "+", token
        if not _LABEL.match(label):
            raise CommandError(
                f"'{label[:60]}' is not a label (letters, digits, - _ . / :); {_usage('label')}"
            )
        (add if sign == "+" else remove).append(label)
    if not add and not remove:
        raise CommandError(_usage("label"))
    return LabelChange(tuple(add), tuple(remove))


def _template(rest: str) -> Command:
    try:  # template list | preview NAME | save NAME [TEXT]
        if (sub := team.template_subcommand(rest)) is not None:
            return sub
    except team.TeamCommandError as exc:
        raise CommandError(str(exc)) from None
    try:
        words = shlex.split(rest)
    except ValueError:
        raise CommandError(f"unbalanced quotes; {_usage('template')}") from None
    if not words:
        raise CommandError(f"say which template; {_usage('template')}")
    return Template(words[0], tuple(words[1:]))
