"""Grammar of the teamwork commands, parsed by ``bot.commands``:

``away`` / ``back``; ``profile``; ``note --contact TEXT``; ``contact merge A B``;
``template list`` / ``template preview NAME`` / ``template save NAME [TEXT]``.
A contact is named by a conversation (``#42``), an email address, a phone number,
or its id (``id:17``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TEAM_COMMANDS",
    "Away",
    "Back",
    "ContactMerge",
    "ContactNote",
    "Profile",
    "TeamCommandError",
    "TemplateList",
    "TemplatePreview",
    "TemplateSave",
    "build_team_command",
    "contact_note",
    "template_subcommand",
]


class TeamCommandError(ValueError):
    """A malformed teamwork command; ``bot.commands`` turns it into a CommandError."""


@dataclass(frozen=True)
class Away:
    """Mark yourself away: auto-assignment skips you until ``back``."""


@dataclass(frozen=True)
class Back:
    """Mark yourself available again."""


@dataclass(frozen=True)
class Profile:
    """Show the customer's profile: identities, past conversations, labels, pinned notes."""


@dataclass(frozen=True)
class ContactNote:
    """An internal note pinned to the conversation's contact (shown in every profile)."""

    text: str


@dataclass(frozen=True)
class ContactMerge:
    """Merge contact ``other`` into ``keep``: all identities, conversations and notes move."""

    keep: str
    other: str


@dataclass(frozen=True)
class TemplateList:
    """List the canned replies."""


@dataclass(frozen=True)
class TemplatePreview:
    """Show a canned reply filled in for this conversation, only to you."""

    name: str


@dataclass(frozen=True)
class TemplateSave:
    """Save a canned reply; without text, the conversation's last reply to the customer is saved."""

    name: str
    text: str = ""


TEAM_COMMANDS: dict[str, tuple[str, str]] = {
    "profile": ("profile", "the customer: addresses, past conversations, labels, pinned notes"),
    "contact": ("contact merge A B", "merge contact B into A (#42, an address, a phone or id:17)"),
    "away": ("away", "mark yourself away: no automatic assignments"),
    "back": ("back", "mark yourself available again"),
}
"""name -> (usage, one-line description) of the teamwork commands."""

_TEMPLATE_USAGE = "template NAME | template list | template preview NAME | template save NAME [TEXT]"


def build_team_command(name: str, rest: str) -> Away | Back | Profile | ContactMerge:
    """Build ``away``, ``back``, ``profile`` or ``contact …`` from the text after the name."""
    simple: dict[str, Away | Back | Profile] = {"away": Away(), "back": Back(), "profile": Profile()}
    if name in simple:
        if rest:
            raise TeamCommandError(f"{name} takes no arguments; usage: {TEAM_COMMANDS[name][0]}")
        return simple[name]
    words = rest.split()
    if len(words) != 3 or words[0].lower() != "merge":
        raise TeamCommandError(f"usage: {TEAM_COMMANDS['contact'][0]}")
    return ContactMerge(words[1], words[2])


def template_subcommand(rest: str) -> TemplateList | TemplatePreview | TemplateSave | None:
    """``template list|preview|save …``, or None when ``rest`` names a template to send."""
    head, _, tail = rest.strip().partition(" ")
    word = head.lower()
    if word == "list":
        if tail.strip():
            raise TeamCommandError("template list takes no arguments")
        return TemplateList()
    if word == "preview":
        if not tail.strip() or len(tail.split()) != 1:
            raise TeamCommandError(f"say which template; usage: {_TEMPLATE_USAGE}")
        return TemplatePreview(tail.strip())
    if word == "save":
        name, _, text = tail.strip().partition(" ")
        if not name:
            raise TeamCommandError(f"say under which name; usage: {_TEMPLATE_USAGE}")
        plain = name.replace("-", "").replace("_", "")
        if not plain.isalnum() or name.lower() in ("list", "preview", "save"):
            raise TeamCommandError(f"'{name[:40]}' cannot be a template name (letters, digits, - and _)")
        return TemplateSave(name, text.strip())
    return None


def contact_note(rest: str) -> ContactNote | None:
    """``note --contact TEXT`` as a ContactNote, or None for an ordinary note."""
    if not rest.startswith("--contact"):
        return None
    text = rest[len("--contact") :].strip()
    if not text:
        raise TeamCommandError("note --contact needs some text; usage: note --contact TEXT")
    return ContactNote(text)
