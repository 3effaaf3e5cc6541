"""Parse a raw RFC 5322 message into an ``InboundMessage``; never raises.

Uses the standard library's modern email API (``policy.default``) with guards:
problems (malformed headers or boundaries, unknown charsets, undecodable bytes)
are recorded in ``parse_errors`` and the text still says something readable.
Broken multipart structure is repaired first (``adapters.email.repair``); the
problems a reader should know about (a broken structure, bad base64, no sender)
are summed up in one line in ``extra["malformed"]``. The text shown in the thread
has quoted history (``quotequail``) and the ``-- `` signature cut, and every
forwarded message (``message/rfc822``) shown inline after it; ``original_text``,
``html`` and ``raw`` keep everything. The sender, ``To`` and ``Cc`` addresses are
kept in ``extra["from"]``, ``extra["to"]`` and ``extra["cc"]`` for reply-all.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import re
from collections.abc import Collection
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy

import quotequail

from adapters.email.addresses import address_list, header_addresses
from adapters.email.classify import auto_kind, bounce_reason, bounced_message_ids, is_own_message, message_ids
from adapters.email.decode import clean, decode_text_part, header_text, raw_header
from adapters.email.htmltext import html_to_text
from adapters.email.repair import repair_structure
from bot.ports.inbound import AutoKind, InboundAttachment, InboundMessage

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "NO_SENDER",
    "is_own_message",
    "parse_email",
    "strip_quotes_and_signature",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
"""Default size above which an attachment's content is dropped (``too_large``)."""

NO_SENDER = "no sender address"
"""The problem named when a mail has no usable From, Sender or Reply-To address."""

_MAX_SCANNED_LINES = 10_000  # quote stripping scans this much; the rest of a longer text stays visible
_MAX_SIGNATURE_LINES = 15  # a "-- " line followed by more than this (and no quote) is no signature
_MAX_SIGNATURE_LINE_CHARS = 1000
_MESSAGE_TYPES = ("message/rfc822", "message/global")
_MAX_FORWARD_DEPTH = 5
_BASE64_DEFECTS = frozenset(
    {"InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect", "InvalidBase64LengthDefect"}
)
_TOKEN = re.compile(r"\[#(\d{1,9})\]")
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)


class _CachingPolicy(EmailPolicy):
    """``policy.default`` that memoises parsed MIME structure headers (immutable objects): the parser
    and ``get_content_type`` re-parse the same Content-Type header many times per message."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        """Like ``EmailPolicy.header_fetch_parse``, served from a bounded cache."""
        if hasattr(value, "name"):
            return value
        if name.lower() in _CACHED_HEADERS:
            return _parse_header(name, value)
        return policy.default.header_fetch_parse(name, value)


_CACHED_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})


@functools.lru_cache(maxsize=256)
def _parse_header(name: str, value: str) -> str:
    return policy.default.header_fetch_parse(name, value)


_PARSER = BytesParser(policy=_CachingPolicy())
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _leaves(part: Message, depth: int = 0) -> list[Message]:
    """Leaf parts in order; attached messages (message/*) count as leaves, their insides are not walked."""
    if depth > 40:
        return []
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        payload = part.get_payload()
        out: list[Message] = []
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                out.extend(_leaves(sub, depth + 1))
        return out
    return [part]


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return clean(name) if name else None


def _default_name(ctype: str, index: int) -> str:
    if ctype in _MESSAGE_TYPES:
        return f"message-{index}.eml"
    if ctype.startswith(("message/", "text/")):
        return f"part-{index}.txt"
    return f"attachment-{index}{mimetypes.guess_extension(ctype) or '.bin'}"


def _attachment(part: Message, index: int, limit: int, errors: list[str]) -> InboundAttachment:
    ctype = part.get_content_type()
    name = _filename(part) or _default_name(ctype, index)
    try:
        if ctype.startswith("message/"):
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else bytes(part.as_bytes())
        else:
            decoded = part.get_payload(decode=True)
            data = decoded if isinstance(decoded, bytes) else b""
    except Exception as exc:
        errors.append(f"attachment {name}: {exc}")
        return InboundAttachment(filename=name, content_type=ctype, size=0, error=str(exc))
    content_id = clean(str(part.get("Content-ID", "") or "")).strip("<>") or None
    inline = part.get_content_disposition() == "inline" or (
        content_id is not None and part.get_filename() is None
    )
    too_large = len(data) > limit
    return InboundAttachment(
        filename=name,
        content_type=ctype,
        size=len(data),
        data=None if too_large else data,
        inline=inline,
        content_id=content_id,
        too_large=too_large,
    )


def _body_part(msg: Message, kind: str) -> Message | None:
    try:
        if isinstance(msg, EmailMessage):
            return msg.get_body(preferencelist=(kind,))
    except Exception:
        return None
    return None


def _is_signature(after: str) -> bool:
    """True when the text after a ``-- `` line is a signature: a few lines, then the end or quoted history.

    Otherwise the line is a separator inside what the customer wrote (a pasted log, a list), and
    cutting there would hide the rest.
    """
    last = after.split("\n", _MAX_SIGNATURE_LINES + 1)[-1]  # the rest, if there are more lines
    if "\n" not in last and len(last) < _MAX_SIGNATURE_LINE_CHARS:
        return True
    try:
        parts = quotequail.quote(after, limit=_MAX_SCANNED_LINES + 1, quote_intro_line=True)
    except Exception:
        return False
    return len(parts) > 1 and parts[0][1].count("\n") <= _MAX_SIGNATURE_LINES


def strip_quotes_and_signature(text: str) -> str:
    """The new part of a reply: quoted history (quotequail) and a ``-- `` signature removed.

    Nothing is cut unseen: quotequail scans every line, up to ``_MAX_SCANNED_LINES``; the lines of a
    longer text past that stay visible, unstripped. Returns the stripped text, or the whole text when
    stripping would leave nothing.
    """
    lines = text.split("\n")
    shown, unscanned = "\n".join(lines[:_MAX_SCANNED_LINES]), "\n".join(lines[_MAX_SCANNED_LINES:])
    cut = _SIGNATURE.search(shown)  # first: a signature ends the new text, and quotequail scans less
    if cut and _is_signature(shown[cut.end() :] + ("\n" + unscanned if unscanned else "")):
        shown, unscanned = shown[: cut.start()], ""
    try:
        parts = quotequail.quote(shown, limit=_MAX_SCANNED_LINES + 1, quote_intro_line=True)
        kept: list[str] = []
        for expanded, chunk in parts:
            if not expanded:
                break
            kept.append(chunk)
        if len(kept) < len(parts):
            unscanned = ""  # quoted history was found: what follows it is history too
        shown = "\n".join(kept)
    except Exception:
        pass
    shown = "\n".join(p for p in (shown.strip(), unscanned.strip()) if p)
    return shown or text.strip()


def _sender(msg: Message, errors: list[str]) -> tuple[str | None, str]:
    """The sender's display name and address: From, else Sender; a Reply-To address wins."""
    name: str | None = None
    address = ""
    for header in ("From", "Sender"):
        pairs = header_addresses(msg, header)
        if pairs:
            name, address = pairs[0]
            break
        if raw_header(msg, header) is not None:
            errors.append(f"unreadable {header} address")
    reply_to = header_addresses(msg, "Reply-To")
    if reply_to:
        address = reply_to[0][1]
    if not address:
        errors.append(NO_SENDER)
    return name, address


def _forwarded(part: Message, errors: list[str], depth: int = 0) -> str:
    """An attached message as the thread shows it inline: its From, Date, Subject and To, then its text."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return ""
    repair_structure(inner, [])
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        value = header_text(inner, name, errors)
        if value:
            lines.append(f"{name}: {value}")
    plain_part, html_part = _body_part(inner, "plain"), _body_part(inner, "html")
    if plain_part is not None:
        body = decode_text_part(plain_part, errors)
    elif html_part is not None:
        body = html_to_text(decode_text_part(html_part, errors))
    else:
        body = ""
    blocks = ["\n".join(lines), body.strip()]
    if depth < _MAX_FORWARD_DEPTH:
        blocks += [_forwarded(leaf, errors, depth + 1) for leaf in _leaves(inner) if _is_message(leaf)]
    return "\n\n".join(block for block in blocks if block)


def _is_message(part: Message) -> bool:
    return part.get_content_type() in _MESSAGE_TYPES


def _bad_base64(parts: list[Message], plain: Message | None, html: Message | None) -> list[str]:
    """The parts whose base64 did not decode cleanly, named by file name (text parts as 'the text')."""
    named: list[str] = []
    for part in parts:
        if any(type(d).__name__ in _BASE64_DEFECTS for d in getattr(part, "defects", [])):
            is_text = part is plain or part is html or part.get_content_maintype() == "text"
            named.append("the text" if is_text and not _filename(part) else _filename(part) or "a part")
    return list(dict.fromkeys(named))


def parse_email(
    raw: bytes,
    *,
    inbox: str,
    own_message_id_domains: Collection[str] = frozenset(),
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    received_at: datetime | None = None,
) -> InboundMessage:
    """Parse ``raw`` into an ``InboundMessage`` for ``inbox``; never raises.

    ``external_id`` is the Message-ID with its angle brackets (synthesized from a sha256
    of ``raw`` when missing); ``thread_refs`` In-Reply-To then References; the ``[#42]``
    subject token becomes ``conversation_hint``. ``received_at`` defaults to now (UTC);
    the Date header is kept in ``extra["date"]``.
    """
    errors: list[str] = []
    try:
        msg: Message = _PARSER.parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is a last resort
        errors.append(f"unparseable message: {exc}")
        msg = EmailMessage()
        msg.set_content(raw.decode("utf-8", errors="replace"))
    return _build(msg, raw, inbox, own_message_id_domains, max_attachment_bytes, received_at, errors)


def _build(
    msg: Message,
    raw: bytes,
    inbox: str,
    own: Collection[str],
    limit: int,
    received_at: datetime | None,
    errors: list[str],
) -> InboundMessage:
    subject = header_text(msg, "Subject", errors)
    sender_name, sender_address = _sender(msg, errors)
    ids = message_ids(header_text(msg, "Message-ID", errors))
    if ids:
        external_id = ids[0]
    else:
        external_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@synthesized.threadline.invalid>"
        errors.append("missing Message-ID; synthesized one from the message hash")
    refs: list[str] = []
    for ref in message_ids(header_text(msg, "In-Reply-To", errors)) + message_ids(
        header_text(msg, "References", errors)
    ):
        if ref not in refs and ref != external_id:
            refs.append(ref)

    problems: list[str] = []
    try:
        repair_structure(msg, problems)
    except Exception as exc:  # the repair is best effort; the unrepaired structure is still read
        errors.append(f"structure repair failed: {type(exc).__name__}: {exc}")
    plain_part, html_part = _body_part(msg, "plain"), _body_part(msg, "html")
    plain = decode_text_part(plain_part, errors) if plain_part is not None else None
    html = decode_text_part(html_part, errors) if html_part is not None else None
    kind = auto_kind(msg, sender_address)
    attachments: list[InboundAttachment] = []
    forwarded: list[str] = []
    leaves = _leaves(msg)
    for index, leaf in enumerate(leaves, start=1):
        if leaf is plain_part or leaf is html_part:
            continue
        if (
            leaf.get_content_type() == "text/plain"
            and not _filename(leaf)
            and (leaf.get_content_disposition() != "attachment")
        ):
            extra_text = decode_text_part(leaf, errors)
            plain = f"{plain}\n\n{extra_text}" if plain else extra_text
            continue
        if _is_message(leaf) and kind != AutoKind.BOUNCE:  # a bounce names the reply in its own notice
            forwarded.append(_forwarded(leaf, errors))
        attachments.append(_attachment(leaf, index, limit, errors))
    for part in [msg, *leaves]:
        for defect in getattr(part, "defects", []):
            errors.append(f"defect: {type(defect).__name__}")
    bad_base64 = _bad_base64(leaves, plain_part, html_part)
    if bad_base64:
        problems.append("bad base64 in " + ", ".join(bad_base64))
    if not sender_address:
        problems.append(NO_SENDER)

    original = plain if plain is not None else html_to_text(html) if html is not None else ""
    original = _CONTROL.sub("", original.replace("\r\n", "\n"))
    text = strip_quotes_and_signature(original) if original.strip() else ""
    inline = [_CONTROL.sub("", block.replace("\r\n", "\n")) for block in forwarded if block]
    if inline:
        text = "\n\n".join([text, *inline]).strip()
        original = "\n\n".join([original, *inline]).strip()
    if not text:
        names = ", ".join(a.filename for a in attachments)
        text = f"(no text; attachments: {names})" if names else "(empty message)"

    bounced = tuple(bounced_message_ids(msg, original)) if kind == AutoKind.BOUNCE else ()
    extra: dict[str, str] = {}
    date = header_text(msg, "Date", errors)
    if date:
        extra["date"] = date
    if sender_address:
        extra["from"] = sender_address
    for header, key in (("To", "to"), ("Cc", "cc")):
        addresses = address_list(msg, header)
        if addresses:
            extra[key] = addresses
    if problems:
        extra["malformed"] = "; ".join(dict.fromkeys(problems))
    if bounced:
        extra["bounce_reason"] = bounce_reason(msg) or (subject or "delivery failure")
        refs += [ref for ref in bounced if ref not in refs]  # a bounce belongs to the bounced reply's thread
    if is_own_message(msg, own):
        extra["own_message"] = "true"
    token = _TOKEN.findall(subject or "")
    return InboundMessage(
        channel="email",
        inbox=inbox,
        external_id=external_id,
        sender_address=sender_address,
        sender_name=sender_name,
        received_at=received_at or datetime.now(UTC),
        subject=subject,
        text=text,
        original_text=original,
        html=html,
        raw=raw,
        attachments=tuple(attachments),
        thread_refs=tuple(refs),
        conversation_hint=int(token[-1]) if token else None,
        match_open_by_contact=False,
        auto_kind=kind,
        bounced_refs=bounced,
        parse_errors=tuple(dict.fromkeys(errors)),
        extra=extra,
    )
