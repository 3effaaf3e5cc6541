"""What the core hands a surface (``bot.views``), built with test defaults: a conversation card, a post."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.views import CardView, PostView

__all__ = ["NOW", "card_view", "inbound_post"]

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
