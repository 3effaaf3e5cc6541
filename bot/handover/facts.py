"""The facts of a hand-over, read from storage: customer, request, wait, open promises, last message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.contacts import contact_address, customer_label
from bot.domain import MessageKind, Status
from storage import UnitOfWork
from storage.models import Conversation

__all__ = ["EXCERPT", "HandoverFacts", "Promise", "gather", "promises_in"]

EXCERPT = 280
"""The most characters of a quoted message."""

_PROMISE = re.compile(
    r"\b(?:I|we)\s*(?:'ll|’ll| will| shall| am going to| are going to| promise)\b"
    r"|\bwill (?:get back|follow up|send|check|call|update|refund|ship|confirm)\b"
    r"|\bby (?:tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|end of (?:the )?day|eod)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Promise:
    """A sentence of a reply to the customer that commits the team to something."""

    text: str
    author: str
    at: datetime


@dataclass(frozen=True)
class HandoverFacts:
    """What a teammate taking over a conversation needs to know."""

    number: int
    channel: str
    customer: str
    earlier_conversations: int
    subject: str
    asked: str  # the first customer message, excerpted
    waiting_since: datetime | None  # the customer's unanswered message, if any
    opened_at: datetime
    status: str
    assignee: str | None
    promises: tuple[Promise, ...]  # in replies of a conversation not yet closed
    last_customer: str
    last_customer_at: datetime | None
    now: datetime


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` on one line, cut at a word within ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def promises_in(text: str) -> list[str]:
    """The sentences of ``text`` that promise something ("I'll check with the warehouse tomorrow.")."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip() and _PROMISE.search(s)]


async def gather(
    uow: UnitOfWork, settings: Settings, conversation: Conversation, now: datetime
) -> HandoverFacts:
    """Read the hand-over facts of ``conversation`` (in the caller's unit of work)."""
    contact = await uow.contacts.contact(conversation.contact_id)
    earlier = [
        c for c in await uow.conversations.contact_conversations(contact.id) if c.id != conversation.id
    ]
    messages = await uow.messages.messages_of(conversation.id, [MessageKind.INBOUND, MessageKind.OUTBOUND])
    inbound = [m for m in messages if m.kind == MessageKind.INBOUND]
    promises: list[Promise] = []
    if conversation.status != Status.CLOSED:
        for message in messages:
            if message.kind == MessageKind.OUTBOUND and not (message.meta or {}).get("auto_submitted"):
                author = message.author_name or "the team"
                promises += [
                    Promise(excerpt(s), author, message.created_at) for s in promises_in(message.text)
                ]
    assignee = (await uow.agents.agent(conversation.assignee_id)).name if conversation.assignee_id else None
    return HandoverFacts(
        number=conversation.number,
        channel=conversation.channel,
        customer=_customer(contact.name, contact_address(settings, contact, conversation.channel)),
        earlier_conversations=len(earlier),
        subject=conversation.subject,
        asked=excerpt(inbound[0].text) if inbound else "",
        waiting_since=conversation.waiting_since,
        opened_at=conversation.created_at,
        status=conversation.status,
        assignee=assignee,
        promises=tuple(promises[-3:]),
        last_customer=excerpt(inbound[-1].text) if inbound else "",
        last_customer_at=inbound[-1].created_at if inbound else None,
        now=now,
    )


def _customer(name: str | None, address: str) -> str:
    """How the customer is shown: ``Name <address>``, or whichever of the two there is."""
    if name and address:
        return f"{name} <{address}>"
    return customer_label(name, address)
