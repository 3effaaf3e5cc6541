"""The one command grammar every surface shares.

``parse_command("assign #42 @alice")`` → ``ParsedCommand(Assign("alice"), number=42)``.
A ``#N`` conversation reference may stand before the command or right after its
name (``/inbox assign #42 @alice``). Errors are ``CommandError`` with a usage line.
A contact is named by a conversation (``#42``), an email address, a phone number,
or its id (``id:17``).
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable

from bot.commands.model import (
    Assign,
    Away,
    Back,
    Claim,
    Close,
    Command,
    ContactMerge,
    Help,
    History,
    LabelChange,
    Labels,
    ListConversations,
    Note,
    ParsedCommand,
    PinContactNote,
    Priority,
    Profile,
    Queue,
    Reopen,
    ReplyToCustomer,
    Retry,
    SendDraft,
    Snooze,
    Summary,
    Template,
    TemplateList,
    TemplatePreview,
    TemplateSave,
    Unassign,
    Undo,
)

__all__ = [
    "COMMANDS",
    "CommandError",
    "assign_to",
    "help_on",
    "is_command",
    "label_change",
    "names_agents",
    "parse_command",
    "snooze_until",
    "template_send",
]


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
    "undo": ("undo", "take back your reply before it leaves (within the undo window)"),
    "priority": ("priority urgent|high|normal|low", "set the priority"),
    "list": ("list mine|unassigned|open|snoozed|closed|all", "list conversations"),
    "profile": ("profile", "the customer: addresses, past conversations, labels, pinned notes"),
    "contact": ("contact merge A B", "merge contact B into A (#42, an address, a phone or id:17)"),
    "summary": ("summary", "post the hand-over summary: customer, request, wait, promises, last message"),
    "draft": ("draft send", "send the reply the language model drafted with the last summary"),
    "queue": ("queue", "your queue: yours, unassigned, and those breaching their SLA soon"),
    "away": ("away", "mark yourself away: no automatic assignments"),
    "back": ("back", "mark yourself available again"),
    "help": ("help [COMMAND]", "show this help"),
}

_ALIASES = {"unsnooze": "reopen", "open": "reopen", "ls": "list", "?": "help", "labels?": "labels"}
_NUMBER = re.compile(r"^#(\d{1,12})$")
_LIST_FILTERS = ("mine", "unassigned", "open", "snoozed", "closed", "all")
_PRIORITIES = ("urgent", "high", "normal", "low")
_LABEL = re.compile(r"^[\w][\w\-./:]{0,59}$", re.UNICODE)
_TEMPLATE_USAGE = "template NAME | template list | template preview NAME | template save NAME [TEXT]"


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
        raise CommandError(f"say what to do; type {prefix}help for the commands")
    if name not in COMMANDS:
        raise CommandError(f"unknown command '{head[:40]}'; {_did_you_mean(name, prefix)}")
    rest_text = rest_text.strip()
    if number is None and (match := _NUMBER.match(rest_text.partition(" ")[0])):
        number = int(match.group(1))
        rest_text = rest_text.partition(" ")[2].strip()
    return ParsedCommand(_build(name, rest_text, prefix), number)


def _no_args(name: str, rest: str, command: Command) -> Command:
    if rest:
        raise CommandError(f"{name} takes no arguments; {_usage(name)}")
    return command


def _did_you_mean(word: str, prefix: str) -> str:
    """``did you mean label?`` for a near miss, then where the commands are listed."""
    close = difflib.get_close_matches(word, [*COMMANDS, *_ALIASES], n=1, cutoff=0.6)
    guess = f"did you mean {prefix}{_ALIASES.get(close[0], close[0])}? " if close else ""
    return f"{guess}type {prefix}help for the commands"


def _build(name: str, rest: str, prefix: str) -> Command:
    simple: dict[str, Command] = {
        "claim": Claim(),
        "unassign": Unassign(),
        "labels": Labels(),
        "close": Close(),
        "reopen": Reopen(),
        "history": History(),
        "retry": Retry(),
        "undo": Undo(),
        "away": Away(),
        "back": Back(),
        "profile": Profile(),
        "summary": Summary(),
        "queue": Queue(),
    }
    if name in simple:
        return _no_args(name, rest, simple[name])
    if name == "draft":
        if rest.lower() != "send":
            raise CommandError(f"a draft is sent with: {_usage(name)} (nothing else reaches the customer)")
        return SendDraft()
    if name == "contact":
        words = rest.split()
        if len(words) != 3 or words[0].lower() != "merge":
            raise CommandError(_usage(name))
        return ContactMerge(words[1], words[2])
    if name == "assign":
        return assign_to(rest)
    if name == "label":
        return _label(rest)
    if name in ("note", "reply"):
        return _text_command(name, rest)
    if name == "snooze":
        return snooze_until(rest)
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
    return help_on(rest, prefix)


def names_agents(line: str, prefix: str = "") -> bool:
    """True when the command ``line`` names teammates by their mentions (``assign @them``): a surface
    then keeps those mentions as identities (the form ``Assign`` resolves) instead of display names,
    and makes the people mentioned agents first (``CommandService.register``), so one who never
    acted can be picked. A line that is no valid command names nobody."""
    try:
        return isinstance(parse_command(line, prefix).command, Assign)
    except CommandError:
        return False


def assign_to(who: str) -> Assign:
    """Assign to ``who`` (``@name``, a surface's mention, an agent key); ``CommandError`` when nobody
    or more than one word is given (a surface's member picker builds it typed)."""
    who = who.strip()
    if not who or " " in who:
        raise CommandError(f"say who: {_usage('assign')}")
    return Assign(who)


def snooze_until(until: str) -> Snooze:
    """Snooze until ``until``, a time the core resolves in the inbox's time zone when it runs (``2h``,
    ``tomorrow 9:00``); ``CommandError`` when empty. A surface's time option builds it typed."""
    spec = until.strip()
    if not spec:
        raise CommandError(f"say until when: {_usage('snooze')}")
    return Snooze(spec)


def template_send(name: str, params: str = "") -> Template:
    """Send template ``name`` with ``params`` split like the grammar splits them (space-separated,
    multi-word ones quoted); ``CommandError`` for unbalanced quotes or no name. A surface's template
    option and parameter line build it typed (the name is never read as ``list``/``preview``/``save``)."""
    if not name.strip():
        raise CommandError(f"say which template; {_usage('template')}")
    return Template(name.strip(), tuple(_split_params(params)))


def help_on(topic: str | None, prefix: str = "") -> Help:
    """The help, or one command's usage (an alias names its command); ``CommandError`` with a guess
    for a topic that is no command."""
    word = (topic or "").strip().lower()
    if not word:
        return Help()
    name = _ALIASES.get(word, word)
    if name not in COMMANDS:
        raise CommandError(f"no command '{(topic or '').strip()[:40]}'; {_did_you_mean(word, prefix)}")
    return Help(name)


def _text_command(name: str, rest: str) -> Command:
    if name == "note" and rest.startswith("--contact"):
        text = rest[len("--contact") :].strip()
        if not text:
            raise CommandError("note --contact needs some text; usage: note --contact TEXT")
        return PinContactNote(text)
    confirm = False
    if name == "reply" and rest.startswith("--confirm"):
        confirm, rest = True, rest[len("--confirm") :].strip()
    if not rest:
        raise CommandError(f"{name} needs some text; {_usage(name)}")
    return ReplyToCustomer(rest, confirm) if name == "reply" else Note(rest)


def _label(rest: str) -> LabelChange:
    add: list[str] = []
    remove: list[str] = []
    for token in rest.split():
        sign, label = token[:1], token[1:]
        if sign not in "+-" or not label:
            sign, label = "+", token
        (add if sign == "+" else remove).append(label)
    return label_change(add, remove)


def label_change(add: Iterable[str], remove: Iterable[str]) -> LabelChange:
    """The labels to add and remove as a command, each checked to be a label name (a surface's
    labels menu builds it typed); ``CommandError`` names the first that is not, or says none was given."""
    added, removed = tuple(add), tuple(remove)
    for label in (*added, *removed):
        if not _LABEL.match(label):
            raise CommandError(
                f"'{label[:60]}' is not a label (letters, digits, - _ . / :); {_usage('label')}"
            )
    if not added and not removed:
        raise CommandError(_usage("label"))
    return LabelChange(added, removed)


def _template(rest: str) -> Command:
    if (sub := _template_subcommand(rest)) is not None:
        return sub
    words = _split_params(rest)
    if not words:
        raise CommandError(f"say which template; {_usage('template')}")
    return Template(words[0], tuple(words[1:]))


def _split_params(text: str) -> list[str]:
    """Space-separated words, quoted ones kept together (``"Jane Doe" 42`` → two)."""
    try:
        return shlex.split(text)
    except ValueError:
        raise CommandError(f"unbalanced quotes; {_usage('template')}") from None


def _template_subcommand(rest: str) -> TemplateList | TemplatePreview | TemplateSave | None:
    """``template list|preview|save …``, or None when ``rest`` names a template to send."""
    head, _, tail = rest.strip().partition(" ")
    word = head.lower()
    if word == "list":
        if tail.strip():
            raise CommandError("template list takes no arguments")
        return TemplateList()
    if word == "preview":
        if not tail.strip() or len(tail.split()) != 1:
            raise CommandError(f"say which template; usage: {_TEMPLATE_USAGE}")
        return TemplatePreview(tail.strip())
    if word == "save":
        name, _, text = tail.strip().partition(" ")
        if not name:
            raise CommandError(f"say under which name; usage: {_TEMPLATE_USAGE}")
        plain = name.replace("-", "").replace("_", "")
        if not plain.isalnum() or name.lower() in ("list", "preview", "save"):
            raise CommandError(f"'{name[:40]}' cannot be a template name (letters, digits, - and _)")
        return TemplateSave(name, text.strip())
    return None
