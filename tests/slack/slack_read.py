"""Small helpers for reading what the fake Slack holds."""

from __future__ import annotations

from typing import Any

__all__ = ["all_text", "card_fields"]


def card_fields(message: dict[str, Any]) -> dict[str, str]:
    """The card's fields section as {name: value} (mrkdwn ``*Name*\\nvalue``)."""
    for block in message["blocks"]:
        if block.get("fields"):
            return dict(f["text"][1:].split("*\n", 1) for f in block["fields"])
    raise AssertionError("no fields in card")


def all_text(message: dict[str, Any]) -> str:
    """Every mrkdwn text of a message's blocks, joined."""
    parts = []
    for block in message.get("blocks") or []:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)
