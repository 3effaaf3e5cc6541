"""The slash command's own words: help in the ``/inbox claim #42`` form, and what to do without a number.

Slack does not allow slash commands in threads, so ``/inbox`` always runs outside the
conversation it acts on and must name it (``#42``); in the thread the same commands are
typed with the prefix (``!claim``). The help and the refusal say exactly that.
"""

from __future__ import annotations

import re

from bot.commands.grammar import COMMANDS

__all__ = ["missing_number", "slash_help"]

# commands that act on no conversation, with the words of their usage that need none either
_NO_CONVERSATION = frozenset({"help", "labels", "list", "away", "back", "contact", "queue", "ls", "?"})
_NUMBER = re.compile(r"(?:^|\s)#\d{1,12}(?:\s|$)")
_TEMPLATE_FREE = ("list", "preview", "save")


def _slash_form(command: str, name: str, usage: str) -> str:
    if name in _NO_CONVERSATION:
        return f"{command} {usage}"
    head, _, tail = usage.partition(" ")
    return f"{command} {head} #42" + (f" {tail}" if tail else "")


def slash_help(command: str, topic: str | None, prefix: str) -> str:
    """Every command (or ``topic``) in its slash form, ``/inbox claim #42``; then the thread form."""
    names = [topic] if topic in COMMANDS else list(COMMANDS)
    lines = [f"`{_slash_form(command, n, COMMANDS[n][0])}` — {COMMANDS[n][1]}" for n in names]
    lines.append(
        f"In a conversation's thread, type the same with `{prefix}` and without the number "
        f"(`{prefix}claim`, `{prefix}reply Thanks!`); a plain message there is an internal note."
    )
    return "\n".join(lines)


def missing_number(command: str, text: str, prefix: str) -> str | None:
    """What to tell someone whose slash command needs a conversation but names none; None if fine."""
    words = text.split()
    name = words[0].lower() if words else "help"
    if name in _NO_CONVERSATION or name not in COMMANDS or _NUMBER.search(text):
        return None
    if name == "template" and len(words) > 1 and words[1].lower() in _TEMPLATE_FREE:
        return None
    return (
        f"Name the conversation: `{command} {name} #42`. Slack does not run slash commands in threads; "
        f"inside a conversation's thread type `{prefix}{name}` instead."
    )
