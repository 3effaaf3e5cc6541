"""What the core hands a surface or a channel (``bot.views``), with test defaults: a card, a post, a reply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.views import CardView, OutboundView, PostView

__all__ = ["NOW", "card_view", "inbound_post", "outbound_view"]

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the posts were written."""


def card_view(**fields: Any) -> CardView:
    """Card #42: Jane Doe's email "Refund for order 1881", open, unassigned, normal; ``fields`` change it."""
    base: dict[str, Any] = dict(
        number=42,
        inbox="Support",
        channel="email",
        customer="Jane Doe",
        customer_address="jane@example.org",
        subject="Refund for order 1881",
        status="open",
        assignee=None,
        labels=(),
        priority="normal",
    )
    return CardView(**{**base, **fields})


def inbound_post(text: str, **fields: Any) -> PostView:
    """Ann Customer's email ``text`` (message ``m-1``, written at ``NOW``); ``fields`` change it."""
    base: dict[str, Any] = dict(
        kind="inbound",
        author="Ann Customer",
        text=text,
        created_at=NOW,
        from_customer=True,
        channel="email",
        message_uid="m-1",
    )
    return PostView(**{**base, **fields})


def outbound_view(**fields: Any) -> OutboundView:
    """Bob's reply to Alice Example on #42 ("Refund for order 1881") from support@threadline.test, in a
    thread of two earlier mails; ``fields`` change it."""
    base: dict[str, Any] = {
        "uid": "01JABCDEF",
        "conversation_number": 42,
        "inbox": "support",
        "inbox_address": "support@threadline.test",
        "channel": "email",
        "to_address": "alice@example.com",
        "to_name": "Alice Example",
        "subject": "Refund for order 1881",
        "text": "Hello Alice,\n\nthe refund is on its way.\nBob",
        "agent_name": "Bob",
        "thread_refs": ("<first@example.com>", "<second@example.com>"),
    }
    return OutboundView(**{**base, **fields})
