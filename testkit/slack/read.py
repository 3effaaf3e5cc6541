"""Small helpers for reading what the fake Slack holds."""

from __future__ import annotations

from typing import Any

__all__ = ["all_text", "card_fields", "literal_text"]


def card_fields(message: dict[str, Any]) -> dict[str, str]:
    """The card's fields section as {name: value} (mrkdwn ``*Name*\\nvalue``)."""
    for block in message["blocks"]:
        if block.get("fields"):
            return dict(f["text"][1:].split("*\n", 1) for f in block["fields"])
    raise AssertionError("no fields in card")


def literal_text(message: dict[str, Any]) -> str:
    """The text of a message's rich_text blocks (shown as typed), one line per block."""
    return "\n".join(
        "".join(e.get("text", "") for section in block["elements"] for e in section["elements"])
        for block in message.get("blocks") or []
        if block["type"] == "rich_text"
    )


def all_text(message: dict[str, Any]) -> str:
    """Every text of a message's blocks (mrkdwn and rich text), joined."""
    parts = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join([*parts, literal_text(message)]).strip("\n")
