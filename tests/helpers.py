"""Helpers to build inbound messages in tests."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
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


async def until(
    what: str,
    check: Callable[[], object],
    *,
    timeout: float = 15.0,
    between: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Wait until ``check()`` is true (running ``between`` each round, e.g. an outbox drain); fail with
    ``what`` after ``timeout`` seconds. Tests wait for what a user would see, never assert on speed."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if between is not None:
            await between()
        await asyncio.sleep(0.02)
