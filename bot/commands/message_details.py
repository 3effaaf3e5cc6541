"""What ``conversations show`` lists under each message besides its text and delivery status (the
channel's last receipt): attachments, parse problems and a delivery error."""

from __future__ import annotations

from typing import Any

from storage import UnitOfWork
from storage.models import Message

__all__ = ["detail_lines", "message_details"]


async def message_details(uow: UnitOfWork, message: Message) -> dict[str, Any]:
    """The message's attachments, parse problems and delivery error, as plain data."""
    meta = message.meta or {}
    return {
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "status": a.status,
                "error": a.error,
            }
            for a in await uow.messages.attachments_of(message.id)
        ],
        "malformed": meta.get("malformed"),
        "parse_problems": list(meta.get("parse_errors", [])),
        "delivery_error": message.delivery_error,
    }


def _attachment_line(attachment: dict[str, Any]) -> str:
    state = {"too_large": "too large to keep", "error": f"unreadable: {attachment['error']}"}
    note = state.get(attachment["status"], f"{attachment['size']:,} bytes")
    return f"{attachment['filename']} ({attachment['content_type']}, {note})"


def detail_lines(message: dict[str, Any]) -> list[str]:
    """The details of one message of ``describe_conversation`` as lines of text."""
    lines = []
    if message["attachments"]:
        lines.append("attachments: " + "; ".join(map(_attachment_line, message["attachments"])))
    if message["malformed"]:
        lines.append(f"⚠ malformed: {message['malformed']}")
    if message["parse_problems"]:
        lines.append("parse problems: " + "; ".join(message["parse_problems"]))
    if message["delivery_error"]:
        lines.append(f"delivery error: {message['delivery_error']}")
    return lines
