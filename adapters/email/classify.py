"""Tell mail no human wrote (bounces, auto-replies, list mail) and our own sent mail from customer mail.

Rules follow RFC 3834 and common practice: ``Auto-Submitted`` other than ``no``,
``X-Autoreply``/``X-Autorespond``/``X-Auto-Response-Suppress``, ``Precedence``,
``List-Id``, an empty return path, MAILER-DAEMON/postmaster senders and
``multipart/report`` delivery status notifications.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser

from bot.ports.inbound import AutoKind

__all__ = [
    "OWN_ID_PREFIX",
    "auto_kind",
    "bounce_reason",
    "bounced_message_ids",
    "is_own_message",
    "message_ids",
]

OWN_ID_PREFIX = "tl."
"""Local-part prefix of every Message-ID Threadline generates (``<tl.{uid}@domain>``)."""

_ID = re.compile(r"<[^<>\s]+>")
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
_HEADER_PARSER = BytesHeaderParser(policy=policy.compat32)


def message_ids(value: str | None) -> list[str]:
    """All ``<id>`` tokens in a header value, in order; a bare token without brackets gets them added."""
    if not value:
        return []
    found = _ID.findall(value)
    if not found:
        bare = value.strip().split()
        if len(bare) == 1 and "@" in bare[0]:
            return [f"<{bare[0].strip('<>')}>"]
    return found


def _raw(msg: Message, name: str) -> str | None:
    """A header's raw text, without the policy's parsing (which can raise on garbage)."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value).strip()
    return None


def auto_kind(msg: Message, sender_address: str) -> str | None:
    """Classify ``msg``: ``AutoKind.BOUNCE``, ``AUTO_REPLY``, ``LIST`` or None for human mail."""
    local = sender_address.split("@", 1)[0].lower()
    return_path = _raw(msg, "Return-Path")
    if (
        (return_path is not None and return_path.replace(" ", "") in ("<>", ""))
        or local in _BOUNCE_SENDERS
        or (
            msg.get_content_type() == "multipart/report"
            and "delivery-status" in (_raw(msg, "Content-Type") or "")
        )
        or _raw(msg, "X-Failed-Recipients") is not None
    ):
        return AutoKind.BOUNCE
    auto_submitted = (_raw(msg, "Auto-Submitted") or "").lower()
    precedence = (_raw(msg, "Precedence") or "").lower().strip()
    if (
        (auto_submitted and not auto_submitted.startswith("no"))
        or any(
            _raw(msg, name) is not None
            for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
        )
        or precedence == "auto_reply"
    ):
        return AutoKind.AUTO_REPLY
    if _raw(msg, "List-Id") is not None or precedence in ("bulk", "list", "junk"):
        return AutoKind.LIST
    return None


def _walk_no_nested(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Every part, including the headers of attached messages but not their bodies."""
    yield msg
    if depth > 20 or not msg.is_multipart():
        return
    payload = msg.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _walk_no_nested(part, depth + 1)


def bounced_message_ids(msg: Message, body_text: str = "") -> list[str]:
    """Message-IDs of the bounced message, from a ``message/rfc822`` or ``text/rfc822-headers`` part.

    Falls back to a ``Message-ID:`` line in the bounce text when the report carries no such part.
    """
    found: list[str] = []
    for part in _walk_no_nested(msg):
        ctype = part.get_content_type()
        headers: Message | None = None
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                headers = inner[0]
            elif isinstance(inner, str | bytes):
                headers = _parse_headers(inner)
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            data = part.get_payload(decode=True)
            headers = _parse_headers(data if isinstance(data, bytes) else b"")
        if headers is not None:
            for ident in message_ids(_raw(headers, "Message-ID")):
                if ident not in found:
                    found.append(ident)
    if not found:
        for match in re.finditer(r"^\s*Message-ID:\s*(<[^<>\s]+>)", body_text, re.IGNORECASE | re.MULTILINE):
            if match.group(1) not in found:
                found.append(match.group(1))
    return found


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a ``message/delivery-status`` part (RFC 3464 §2.1), parsed or not."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [_parse_headers(block) for block in re.split(r"\r?\n\s*\r?\n", text) if block.strip()]


def _field(block: Message, name: str) -> str:
    value = " ".join((_raw(block, name) or "").split())
    return value.split(";", 1)[1].strip() if name != "Status" and ";" in value else value


def bounce_reason(msg: Message) -> str | None:
    """Why delivery failed, from the report's per-recipient fields (RFC 3464 §2.3): recipient, status
    and diagnostic, e.g. ``gone@example.org: 5.1.1 (550 5.1.1 user unknown)``; else X-Failed-Recipients."""
    reasons: list[str] = []
    for part in _walk_no_nested(msg):
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in _status_blocks(part):
            action = _field(block, "Action").lower()
            recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
            if not recipient or action not in ("failed", ""):
                continue
            status, diagnostic = _field(block, "Status"), _field(block, "Diagnostic-Code")
            detail = " ".join(p for p in (status, f"({diagnostic})" if diagnostic else "") if p)
            reasons.append(f"{recipient}: {detail}" if detail else recipient)
    if not reasons and _raw(msg, "X-Failed-Recipients"):
        reasons.append(f"{_raw(msg, 'X-Failed-Recipients')}: delivery failed")
    return "; ".join(dict.fromkeys(reasons))[:300] or None


def _parse_headers(data: str | bytes) -> Message:
    if isinstance(data, str):
        return HeaderParser(policy=policy.compat32).parsestr(data, headersonly=True)
    return _HEADER_PARSER.parsebytes(data, headersonly=True)


def is_own_message(raw_or_msg: bytes | Message, own_message_id_domains: Collection[str]) -> bool:
    """True when the Message-ID is one Threadline generated (``<tl.…@own-domain>``): never ingest it.

    Given bytes, only the header block is parsed, so it is cheap enough to run on every fetched message.
    """
    if not own_message_id_domains:
        return False
    if isinstance(raw_or_msg, bytes | bytearray):
        end = raw_or_msg.find(b"\r\n\r\n")
        if end < 0:
            end = raw_or_msg.find(b"\n\n")
        head = bytes(raw_or_msg[: end if end >= 0 else 65536])
        msg: Message = _HEADER_PARSER.parsebytes(head, headersonly=True)
    else:
        msg = raw_or_msg
    domains = {domain.lower() for domain in own_message_id_domains}
    for ident in message_ids(_raw(msg, "Message-ID")):
        local, _, domain = ident[1:-1].rpartition("@")
        if local.lower().startswith(OWN_ID_PREFIX) and domain.lower() in domains:
            return True
    return False
