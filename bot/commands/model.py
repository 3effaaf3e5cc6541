"""The agent commands as data: one frozen dataclass per command, who typed it and where.

Surfaces hand the core a ``ParsedCommand`` (from ``grammar.parse_command`` or built from a
button) together with an ``Actor`` and a ``Location``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports.inbound import InboundAttachment

__all__ = [
    "Actor",
    "Assign",
    "Away",
    "Back",
    "Claim",
    "Close",
    "Command",
    "ContactMerge",
    "Help",
    "History",
    "LabelChange",
    "Labels",
    "ListConversations",
    "Location",
    "Note",
    "ParsedCommand",
    "PinContactNote",
    "Priority",
    "Profile",
    "Queue",
    "Reaction",
    "Reopen",
    "ReplyToCustomer",
    "Retry",
    "SendDraft",
    "Snooze",
    "Summary",
    "Template",
    "TemplateList",
    "TemplatePreview",
    "TemplateSave",
    "Unassign",
    "Undo",
]


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id on a surface and the name to show."""

    surface: str
    user_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True)
class Location:
    """Where a command was typed: a surface thread, a conversation the surface has in focus, or neither."""

    surface: str
    thread_id: str | None = None
    number: int | None = None
    typed_in_thread: bool = False  # the text was posted as a message in that thread (visible to all)
    journal_id: int | None = None  # the intake journal entry this command completes (bot.ingest.journal)
    item_id: str | None = None  # the surface message a reaction was put on (the card, or one in the thread)
    message_ref: str | None = None  # the chat message the command was typed as (Slack ts, Discord id)


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
class Away:
    """Mark yourself away: auto-assignment skips you until ``back``."""


@dataclass(frozen=True)
class Back:
    """Mark yourself available again."""


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
class PinContactNote:
    """An internal note pinned to the conversation's contact (shown in every profile)."""

    text: str


@dataclass(frozen=True)
class ReplyToCustomer:
    """A reply to the customer; ``confirm`` overrides the collision check; ``files`` go with it."""

    text: str
    confirm: bool = False
    files: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True)
class Template:
    """Send a template: a canned reply, or on WhatsApp an approved template with its parameters."""

    name: str
    params: tuple[str, ...] = ()


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
class Priority:
    """Set the priority: urgent, high, normal or low."""

    level: str


@dataclass(frozen=True)
class Undo:
    """Take back the newest reply that has not left the outbox (within the undo window)."""


@dataclass(frozen=True)
class Retry:
    """Send failed replies of the conversation again."""


@dataclass(frozen=True)
class Profile:
    """Show the customer's profile: identities, past conversations, labels, pinned notes."""


@dataclass(frozen=True)
class History:
    """The same as ``Profile``: this customer's other conversations."""


@dataclass(frozen=True)
class ContactMerge:
    """Merge contact ``other`` into ``keep``: all identities, conversations and notes move."""

    keep: str
    other: str


@dataclass(frozen=True)
class ListConversations:
    """List conversations: ``mine``, ``unassigned``, ``open``, ``snoozed``, ``closed`` or ``all``."""

    which: str


@dataclass(frozen=True)
class Reaction:
    """An emoji reaction added to (or, ``removed``, taken off) the card or a message of the thread.

    The core looks the emoji up in the surface's ``[reactions]`` map (the character, then the
    surface's ``:short_name:`` when it has one) and runs that command; an emoji outside the map
    does nothing.
    """

    emoji: str
    removed: bool = False
    short_name: str | None = None  # ``:eyes:`` on Slack, which names emoji rather than sending them


@dataclass(frozen=True)
class Summary:
    """Post the hand-over summary of the conversation in its thread."""


@dataclass(frozen=True)
class SendDraft:
    """Send the reply the language model drafted with the last summary (only on this command)."""


@dataclass(frozen=True)
class Queue:
    """Your personal queue: your conversations, the unassigned ones, and those breaching soon."""


@dataclass(frozen=True)
class Help:
    """Show the commands, or one command's usage."""

    topic: str | None = None


Command = (
    Claim
    | Assign
    | Unassign
    | Away
    | Back
    | LabelChange
    | Labels
    | Note
    | PinContactNote
    | ReplyToCustomer
    | Undo
    | Template
    | TemplateList
    | TemplatePreview
    | TemplateSave
    | Snooze
    | Close
    | Reopen
    | Priority
    | Retry
    | Profile
    | History
    | ContactMerge
    | ListConversations
    | Reaction
    | Summary
    | SendDraft
    | Queue
    | Help
)
"""Every command the core understands."""


@dataclass(frozen=True)
class ParsedCommand:
    """A command and the conversation number it named, if any."""

    command: Command
    number: int | None = None
