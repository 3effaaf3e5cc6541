"""Lenient decoding of header values and text parts: 8-bit bytes, RFC 2047, unknown charsets.

Every function here records what went wrong in an ``errors`` list instead of raising.
"""

from __future__ import annotations

import codecs
from email.header import decode_header, make_header
from email.message import Message

__all__ = ["clean", "decode_text_part", "header_text", "raw_header", "unsurrogate"]


def unsurrogate(text: str) -> str:
    """Re-decode 8-bit bytes the parser smuggled in as surrogates: UTF-8 first, then Latin-1."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def clean(text: str) -> str:
    """One line of text: 8-bit bytes re-decoded, NULs dropped, whitespace collapsed."""
    return " ".join(unsurrogate(text).replace("\x00", "").split())


def raw_header(msg: Message, name: str) -> str | None:
    """A header's raw text (first occurrence), without the policy's parsing."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def header_text(msg: Message, name: str, errors: list[str]) -> str | None:
    """A decoded header value; on a policy parsing failure decode RFC 2047 leniently from the raw text."""
    try:
        value = msg.get(name)
        return None if value is None else clean(str(value))
    except Exception as exc:
        errors.append(f"header {name}: {type(exc).__name__}: {exc}")
    raw = raw_header(msg, name)
    if raw is None:
        return None
    try:
        return clean(str(make_header(decode_header(raw))))
    except Exception:
        return clean(raw)


def decode_text_part(part: Message, errors: list[str]) -> str:
    """A text part's content, tolerating unknown charsets and invalid bytes."""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        errors.append(f"undecodable part {part.get_content_type()}: {exc}")
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        return unsurrogate(payload) if isinstance(payload, str) else ""
    charset = (part.get_content_charset() or "utf-8").strip().lower()
    try:
        codecs.lookup(charset)
    except LookupError:
        errors.append(f"unknown charset {charset!r}; decoded as utf-8/latin-1")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    try:
        return data.decode(charset)
    except UnicodeDecodeError:
        errors.append(f"invalid {charset} bytes in {part.get_content_type()}; replaced")
        return data.decode(charset, errors="replace")
