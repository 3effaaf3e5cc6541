"""Inbound messages as the channels hand them to the core: an email, a WhatsApp message."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from bot.ports.inbound import InboundMessage

_ids = itertools.count(1)


def email_in(
    sender: str = "jane@example.org",
    subject: str = "Refund for order 1881",
    text: str = "Hello",
    *,
    when: datetime,
    **fields: Any,
) -> InboundMessage:
    """An email-shaped inbound message to the support inbox."""
    fields.setdefault("external_id", f"<m{next(_ids)}@example.org>")
    return InboundMessage(
        channel="email",
        inbox="support",
        sender_address=sender,
        sender_name=fields.pop("name", "Jane Doe"),
        received_at=when,
        text=text,
        subject=subject,
        **fields,
    )


def whatsapp_in(
    sender: str = "+31 6 1234 5678", text: str = "Hi", *, when: datetime, **fields: Any
) -> InboundMessage:
    """A WhatsApp-shaped inbound message to the whatsapp inbox."""
    fields.setdefault("external_id", f"wamid.T{next(_ids)}")
    return InboundMessage(
        channel="whatsapp",
        inbox="whatsapp",
        sender_address=sender,
        sender_name=fields.pop("name", "Sofia"),
        received_at=when,
        text=text,
        match_open_by_contact=True,
        **fields,
    )
