"""CSAT: after close, ask the customer one question (a 1–5 rating) and record the answer.

Per inbox (``[inboxes.NAME.csat]``). The question goes out as an automatic message
(``Auto-Submitted: auto-replied`` on email; it is no first response). The answer is a
reply that starts with a digit 1–5 — on email a reply to the question mail (matched by
its references or the ``[#42]`` token), on WhatsApp the next message of the contact
(plain text "reply 1-5"; interactive buttons would need an interactive message type in
the WhatsApp sender). It is stored with the closed conversation *without* reopening it,
shown in the thread as an event, and kept in ``csat_ratings`` for reports.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.config import Settings
from bot.domain import MessageKind, Status
from bot.effects import Effects
from bot.outbox.reachability import no_address_refusal
from bot.ports.inbound import InboundMessage, IngestResult
from bot.windows import window_refusal
from storage import UnitOfWork
from storage.models import Conversation

__all__ = ["CSAT_AUTHOR", "CSAT_CHOICES", "parse_rating", "request_csat", "take_rating"]

CSAT_AUTHOR = "Threadline (satisfaction survey)"
_RATING = re.compile(r"^\s*([1-5])(?:\s*(?:/\s*5|stars?|★+))?(?:\W.*)?$", re.IGNORECASE | re.DOTALL)
_MAX_ANSWER = 200
_ANSWER_WINDOW = timedelta(days=7)
"""An answer counts as a rating only this long after the question (later, "5 items missing" is a new case)."""


CSAT_CHOICES = ("5 ★★★★★ excellent", "4 ★★★★ good", "3 ★★★ okay", "2 ★★ poor", "1 ★ bad")
"""The answers offered where a channel lets the customer pick (WhatsApp's interactive list)."""


def parse_rating(text: str) -> int | None:
    """The 1–5 rating a short answer starts with (``4``, ``5 - great``, ``3/5``), else None."""
    first = next((line for line in text.strip().splitlines() if line.strip()), "")
    if len(text.strip()) > _MAX_ANSWER:
        return None
    match = _RATING.match(first)
    return int(match.group(1)) if match else None


async def request_csat(uow: UnitOfWork, settings: Settings, conv: Conversation, now: datetime) -> bool:
    """Queue the rating question after a close, when the inbox asks for one; True when queued."""
    inbox = settings.inbox(conv.inbox)
    if inbox.csat is None or not inbox.csat.enabled or conv.last_inbound_at is None:
        return False
    if await no_address_refusal(uow, settings, conv) is not None:
        return False  # the customer's mail came without an address: a survey could only fail
    effects = Effects(uow, conv, inbox, now)
    if window_refusal(settings, conv.channel, conv.last_inbound_at, now) is not None:
        await effects.notice("No satisfaction survey: the customer-service window has closed.")
        return False
    uow.audit.record(actor="Threadline", action="csat-requested", now=now, conversation=conv)
    await effects.send_automatic(CSAT_AUTHOR, inbox.csat.question, csat=True, choices=list(CSAT_CHOICES))
    return True


async def take_rating(
    uow: UnitOfWork, settings: Settings, msg: InboundMessage, conv: Conversation | None, now: datetime
) -> IngestResult | None:
    """Store ``msg`` as the answer to a CSAT question of ``conv`` (the conversation it continues)
    when it is one; None to ingest it normally."""
    picked = msg.extra.get("choice") or msg.text  # a picked list option (WhatsApp), or typed text
    if msg.auto_kind is not None or msg.resynced or (rating := parse_rating(picked)) is None:
        return None
    if conv is None or conv.status != Status.CLOSED:
        return None
    inbox = settings.inbox(conv.inbox)
    if inbox.csat is None:
        return None
    question = await uow.csat.csat_request(conv.id)
    if question is None or now - question.created_at > _ANSWER_WINDOW:
        return None
    contact = await uow.contacts.contact(conv.contact_id)
    if msg.sender_address.strip().lower() not in {i.value.lower() for i in contact.identities} and not (
        msg.match_open_by_contact
    ):
        return None
    effects = Effects(uow, conv, inbox, now)
    answer = uow.messages.new_message(
        conv,
        MessageKind.INBOUND,
        now,
        channel=msg.channel,
        external_id=msg.external_id,
        author_name=contact.name or msg.sender_address,
        subject=msg.subject,
        text=msg.text,
        original_text=msg.original_text,
        html=msg.html,
        raw=msg.raw,
        meta={"csat_rating": rating},
    )
    await effects.show(answer)
    await uow.csat.record_rating(conv, rating, now)
    stars = "★" * rating + "☆" * (5 - rating)
    await effects.event(
        "customer", "rated", f"customer rated this conversation {rating}/5 {stars}", {"rating": rating}
    )
    if inbox.csat.thanks:
        await effects.send_automatic(CSAT_AUTHOR, inbox.csat.thanks)
    return IngestResult(duplicate=False, conversation_number=conv.number)
