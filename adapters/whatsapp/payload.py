"""Parsing Meta's webhook payloads (``entry[].changes[].value``) into plain records; no I/O here.

Every documented message type becomes readable text; unknown and ``unsupported``
types become a placeholder that tells the team to look in WhatsApp, never a drop.
Media is only referenced here (``MediaRef``); the channel downloads it at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.whatsapp.errors import remedy_for
from bot.ports import Remedy

__all__ = [
    "MEDIA_TYPES",
    "MediaRef",
    "ParsedMessage",
    "StatusUpdate",
    "WebhookBatch",
    "describe_errors",
    "parse_webhook",
]

log = logging.getLogger(__name__)

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
"""Message types whose content is a media object to download."""


@dataclass(frozen=True)
class MediaRef:
    """A media object of an inbound message: download it with ``GET /{media_id}``."""

    media_id: str
    kind: str
    mime_type: str
    filename: str | None = None


@dataclass(frozen=True)
class ParsedMessage:
    """One customer message from a webhook.

    Meta identifies the sender by phone (``wa_id``, from ``messages[].from``) and/or by the
    business-scoped user id (``user_id``, from ``messages[].from_user_id``); a user who adopted a
    username may come with the user id only. At least one of the two is set.
    """

    wamid: str
    wa_id: str | None
    profile_name: str | None
    timestamp: datetime
    kind: str
    text: str
    phone_number_id: str | None = None
    media: MediaRef | None = None
    context_id: str | None = None  # the message this one quotes
    reacts_to: str | None = None
    choice: str | None = None  # the title of the button or list option the customer picked
    user_id: str | None = None
    username: str | None = None

    @property
    def sender(self) -> str:
        """The sender's phone number when Meta shares it, else the business-scoped user id."""
        sender = self.wa_id or self.user_id
        assert sender is not None
        return sender


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for one of our messages."""

    wamid: str
    status: str
    recipient_id: str
    timestamp: datetime
    error: str | None = None
    phone_number_id: str | None = None
    remedy: Remedy = "retry"


@dataclass(frozen=True)
class WebhookBatch:
    """Everything one webhook POST carried."""

    messages: tuple[ParsedMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


def _when(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def describe_errors(errors: Any) -> str | None:
    """Meta's ``errors[]`` as one readable reason: ``title (code N): details``."""
    parts = []
    for error in _list(errors):
        error = _dict(error)
        code = error.get("code")
        title = str(error.get("title") or error.get("message") or "error")
        details = str(_dict(error.get("error_data")).get("details") or "")
        text = f"{title} (code {code})" if code is not None else title
        if details and details != title:
            text += f": {details}"
        parts.append(text)
    return "; ".join(parts) or None


def _remedy(errors: Any) -> Remedy:
    """What can help after the errors of a failed status (the most hopeful of them)."""
    remedies = [remedy_for(code if isinstance(code, int) else None) for code in _codes(errors)]
    for hopeful in ("retry", "template", "none"):
        if hopeful in remedies:
            return hopeful
    return "retry"


def _codes(errors: Any) -> list[Any]:
    return [_dict(error).get("code") for error in _list(errors)]


def _contact_card(card: dict[str, Any]) -> str:
    name = str(_dict(card.get("name")).get("formatted_name") or "someone")
    details = [str(p.get("phone")) for p in map(_dict, _list(card.get("phones"))) if p.get("phone")]
    details += [str(e.get("email")) for e in map(_dict, _list(card.get("emails"))) if e.get("email")]
    company = _dict(card.get("org")).get("company")
    if company:
        details.append(str(company))
    return f"{name}: {', '.join(details)}" if details else name


def _location(loc: dict[str, Any]) -> str:
    lat, lng = loc.get("latitude"), loc.get("longitude")
    label = ", ".join(str(loc[k]) for k in ("name", "address") if loc.get(k))
    where = f"{label} ({lat}, {lng})" if label else f"{lat}, {lng}"
    return f"📍 Location: {where} https://maps.google.com/?q={lat},{lng}"


def _interactive(data: dict[str, Any]) -> str:
    kind = data.get("type")
    reply = _dict(data.get(str(kind)))
    if kind == "button_reply":
        return f"[button] {reply.get('title', '')}".strip()
    if kind == "list_reply":
        description = f" — {reply['description']}" if reply.get("description") else ""
        return f"[list choice] {reply.get('title', '')}{description}".strip()
    if kind == "nfm_reply":
        return f"[form reply] {reply.get('body') or reply.get('response_json') or ''}".strip()
    return f"[interactive reply: {kind}]"


def _unsupported(kind: str, message: dict[str, Any]) -> str:
    reason = describe_errors(message.get("errors"))
    shown = f"[a WhatsApp '{kind}' message Threadline cannot show; open WhatsApp to see it"
    return shown + (f" ({reason})]" if reason else "]")


def _body(kind: str, message: dict[str, Any]) -> tuple[str, MediaRef | None]:
    """The text a message shows and its media, by type."""
    data = _dict(message.get(kind))
    if kind == "text":
        return str(data.get("body", "")), None
    if kind in MEDIA_TYPES and data.get("id"):
        media = MediaRef(
            str(data["id"]),
            kind,
            str(data.get("mime_type") or "application/octet-stream"),
            data.get("filename"),
        )
        caption = str(data.get("caption") or "")
        if kind == "audio":
            return caption or ("[voice message]" if data.get("voice") else "[audio]"), media
        if kind == "sticker":
            return "[sticker]", media
        return caption or f"[{kind}{': ' + str(data['filename']) if data.get('filename') else ''}]", media
    if kind == "location":
        return _location(data), None
    if kind == "contacts":
        cards = [_contact_card(_dict(c)) for c in _list(message.get("contacts"))]
        return "[shared contact] " + "; ".join(cards or ["(empty)"]), None
    if kind == "interactive":
        return _interactive(data), None
    if kind == "button":
        return f"[button] {data.get('text') or data.get('payload') or ''}".strip(), None
    if kind == "reaction":
        emoji = data.get("emoji")
        return (f"[reaction] {emoji}" if emoji else "[reaction removed]"), None
    if kind == "order":
        items = _list(data.get("product_items"))
        return f"[order] {len(items)} item(s) from catalog {data.get('catalog_id', '?')}", None
    if kind == "system":
        return f"[system] {data.get('body') or data.get('type') or ''}".strip(), None
    return _unsupported(kind, message), None


def _message(
    raw: dict[str, Any], profiles: dict[str, dict[str, Any]], phone_number_id: str | None
) -> ParsedMessage | None:
    wamid, phone, user_id = raw.get("id"), raw.get("from"), raw.get("from_user_id")
    if not wamid or not (phone or user_id):
        log.warning("webhook message without id or sender skipped", extra={"type": str(raw.get("type"))[:30]})
        return None
    kind = str(raw.get("type") or "unknown")
    text, media = _body(kind, raw)
    contact = profiles.get(str(phone)) or profiles.get(str(user_id)) or {}
    profile = _dict(contact.get("profile"))
    user_id = user_id or contact.get("user_id")
    return ParsedMessage(
        wamid=str(wamid),
        wa_id=str(phone) if phone else None,
        user_id=str(user_id) if user_id else None,
        profile_name=str(profile["name"]) if profile.get("name") else None,
        username=str(profile["username"]) if profile.get("username") else None,
        timestamp=_when(raw.get("timestamp")),
        kind=kind,
        text=text,
        phone_number_id=phone_number_id,
        media=media,
        context_id=_dict(raw.get("context")).get("id"),
        reacts_to=_dict(raw.get("reaction")).get("message_id") if kind == "reaction" else None,
        choice=_choice(kind, raw),
    )


def _choice(kind: str, raw: dict[str, Any]) -> str | None:
    """The title of a picked reply button or list option, if the message is one."""
    data = _dict(raw.get(kind))
    if kind == "interactive":
        picked = _dict(data.get(str(data.get("type"))))
        return str(picked["title"]) if picked.get("title") else None
    if kind == "button":
        return str(data.get("text") or data.get("payload") or "") or None
    return None


def ordering_key(body: bytes) -> str | None:
    """The journal ordering key of a webhook body: its first message's business number and sender.

    One sender's messages are then ingested in the order they were received; a body of receipts
    only (or one that is not JSON) has none (receipts only ever move a status forward).
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    for entry in _list(_dict(payload).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            for raw in map(_dict, _list(value.get("messages"))):
                sender = raw.get("from") or raw.get("from_user_id")
                if sender:
                    number_id = _dict(value.get("metadata")).get("phone_number_id")
                    return f"{number_id}:{sender}"[:200]
    return None


def parse_webhook(payload: Any) -> WebhookBatch:
    """Every message and status in a webhook body (already JSON-decoded); malformed parts are skipped."""
    messages: list[ParsedMessage] = []
    statuses: list[StatusUpdate] = []
    for entry in _list(_dict(payload).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            number_id = _dict(value.get("metadata")).get("phone_number_id")
            profiles = {
                str(c[key]): c
                for c in map(_dict, _list(value.get("contacts")))
                for key in ("wa_id", "user_id")
                if c.get(key)
            }
            for raw in _list(value.get("messages")):
                parsed = _message(_dict(raw), profiles, number_id)
                if parsed is not None:
                    messages.append(parsed)
            for raw in map(_dict, _list(value.get("statuses"))):
                if raw.get("id") and raw.get("status"):
                    statuses.append(
                        StatusUpdate(
                            wamid=str(raw["id"]),
                            status=str(raw["status"]),
                            recipient_id=str(raw.get("recipient_id") or raw.get("recipient_user_id") or ""),
                            timestamp=_when(raw.get("timestamp")),
                            error=describe_errors(raw.get("errors")),
                            phone_number_id=number_id,
                            remedy=_remedy(raw.get("errors")),
                        )
                    )
            if value.get("errors"):
                log.warning("webhook reports errors", extra={"errors": describe_errors(value.get("errors"))})
    return WebhookBatch(tuple(messages), tuple(statuses))
