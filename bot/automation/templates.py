"""Canned replies: templates from the config (``[templates.NAME]``) or saved with ``template save NAME``.

Placeholders such as ``{contact.first_name}`` are filled from the conversation. A
placeholder without a value is *flagged* and the reply is not sent: the customer
never sees a raw ``{…}``. One ``template NAME`` command is channel-aware: on
WhatsApp it sends the approved template (``bot.windows``); elsewhere the canned reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Settings
from bot.contacts import contact_address
from bot.settings.rules import PLACEHOLDERS
from storage import UnitOfWork
from storage.models import Agent, Contact, Conversation

__all__ = [
    "CannedReply",
    "Rendered",
    "find_template",
    "list_templates",
    "placeholder_values",
    "render_body",
    "render_for",
]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+\.[A-Za-z_]+)\}")


@dataclass(frozen=True)
class CannedReply:
    """A canned reply as found: its name, body and where it came from (``config`` or ``saved``)."""

    name: str
    body: str
    source: str
    description: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A rendered body; ``missing`` placeholders had no value, ``unknown`` ones are not placeholders."""

    text: str
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every placeholder got a value (the text may be sent)."""
        return not self.missing and not self.unknown

    def problem(self, name: str) -> str:
        """What is wrong, said so the agent can fix it."""
        parts = []
        if self.missing:
            parts.append("no value for " + ", ".join(f"{{{p}}}" for p in self.missing))
        if self.unknown:
            parts.append("unknown placeholder " + ", ".join(f"{{{p}}}" for p in self.unknown))
        return (
            f"Template '{name}' was not sent: {'; '.join(parts)}. "
            "Fill it in yourself with reply, or fix the contact/template first."
        )


def render_body(body: str, values: dict[str, str | None]) -> Rendered:
    """Fill the placeholders of ``body``; unfilled ones stay visible in ``text`` and are listed."""
    missing: list[str] = []
    unknown: list[str] = []

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in PLACEHOLDERS:
            unknown.append(key)
            return match.group(0)
        value = values.get(key)
        if value is None or not str(value).strip():
            missing.append(key)
            return match.group(0)
        return str(value)

    text = _PLACEHOLDER.sub(fill, body)
    return Rendered(text, tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(unknown)))


def placeholder_values(
    settings: Settings, conversation: Conversation, contact: Contact, agent: Agent | None
) -> dict[str, str | None]:
    """The value of every placeholder for a conversation (None when unknown)."""
    emails = [i.value for i in contact.identities if i.kind == "email"]
    phones = [i.value for i in contact.identities if i.kind == "phone"]
    first = contact.name.split()[0] if contact.name and contact.name.split() else None
    return {
        "contact.first_name": first,
        "contact.name": contact.name,
        "contact.email": emails[0] if emails else None,
        "contact.phone": phones[0] if phones else None,
        "agent.name": agent.name if agent else None,
        "agent.first_name": agent.name.split()[0] if agent and agent.name.split() else None,
        "conversation.number": str(conversation.number),
        "conversation.subject": conversation.subject or None,
        "inbox.name": settings.inbox_display(conversation.inbox),
        "_address": contact_address(settings, contact, conversation.channel),
    }


async def find_template(uow: UnitOfWork, settings: Settings, name: str) -> CannedReply | None:
    """A canned reply by name (case-insensitive): the config's first, then saved ones."""
    for key, template in settings.templates.items():
        if key.lower() == name.lower():
            return CannedReply(key, template.body, "config", template.description)
    saved = await uow.templates.saved_template(name)
    return CannedReply(saved.name, saved.body, "saved") if saved is not None else None


async def list_templates(uow: UnitOfWork, settings: Settings) -> list[CannedReply]:
    """Every canned reply, configured ones first."""
    found = [CannedReply(k, t.body, "config", t.description) for k, t in sorted(settings.templates.items())]
    configured = {c.name.lower() for c in found}
    found += [
        CannedReply(s.name, s.body, "saved")
        for s in await uow.templates.saved_templates()
        if s.key not in configured
    ]
    return found


async def render_for(
    uow: UnitOfWork,
    settings: Settings,
    template: CannedReply,
    conversation: Conversation,
    agent: Agent | None,
) -> Rendered:
    """Render a canned reply for a conversation (and the agent sending it)."""
    contact = await uow.contacts.contact_of(conversation)
    return render_body(template.body, placeholder_values(settings, conversation, contact, agent))
