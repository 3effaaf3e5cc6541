"""The WhatsApp ``ChannelSender``: replies as text messages (split at 4,096 chars), media and templates.

The 24-hour window is enforced by the core before anything is queued; if Meta
still refuses (error 131047) the reason tells the team to send a template.
Every part sent is recorded in the outbox's ``SentParts`` (the database) at once, so a retry after a
partial failure or a restart sends only the missing parts (the Graph API has no idempotency key).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Any

from adapters.whatsapp.graph import GraphClient
from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports import MemoryParts, PermanentDeliveryError, SentParts
from bot.runtime import faults
from bot.settings.channel import ApprovedTemplate
from bot.text import split_text as shared_split
from bot.views import AttachmentView, OutboundView

__all__ = [
    "MAX_TEXT_CHARS",
    "WhatsAppSender",
    "media_kind",
    "media_refusal",
    "recipient_fields",
    "split_text",
    "template_components",
]

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096
"""The Cloud API's limit on a text message body."""

_KB, _MB = 1024, 1024 * 1024
# Meta's supported media, per message type: MIME types and the largest size ("Supported media types",
# https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types)
_DOCUMENTS = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_KINDS: dict[str, tuple[frozenset[str], int, str]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * _MB, "images"),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * _MB, "videos"),
    "audio": (
        frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
        16 * _MB,
        "audio",
    ),
    "sticker": (frozenset({"image/webp"}), 100 * _KB, "stickers"),
    "document": (_DOCUMENTS, 100 * _MB, "documents"),
}
_ANIMATED_STICKER_BYTES = 500 * _KB
_TAKES = (
    "it takes images as JPEG or PNG, videos as MP4 or 3GPP, audio as AAC, AMR, MP3, M4A or OGG, "
    "stickers as WebP, and documents as PDF, text, Word, Excel or PowerPoint files"
)
# a business-scoped user id: ISO country code, a period, optionally ENT. (a parent id), alphanumerics
_BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")


def recipient_fields(address: str) -> dict[str, str]:
    """How the Cloud API addresses a customer: ``recipient`` for a business-scoped user id, else
    ``to`` with the phone number's digits."""
    address = address.strip()
    if _BSUID.match(address):
        return {"recipient": address}
    digits = "".join(ch for ch in address if ch.isdigit())
    if not digits:
        raise PermanentDeliveryError("the customer has no WhatsApp number or user id on record")
    return {"to": digits}


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` chars, at a line break or space when there is one
    (the shared splitter, ``bot.text.split``; WhatsApp shows text as sent, so a long word is cut at
    the limit)."""
    return shared_split(text, limit, separators=("\n", " "), careful=False)


def media_kind(content_type: str) -> str | None:
    """The Cloud API message type for a file (image, video, audio, sticker, document), or None when
    WhatsApp takes no file of this type."""
    mime = content_type.split(";")[0].strip().lower()
    return next((kind for kind, (mimes, _, _) in _KINDS.items() if mime in mimes), None)


def _size(size: int) -> str:
    return f"{size / _MB:.1f} MB" if size >= _MB else f"{round(size / _KB)} KB"


def media_refusal(attachment: AttachmentView) -> str | None:
    """Why WhatsApp would refuse this file (its type, or its size for that type), or None when it takes it."""
    kind = media_kind(attachment.content_type)
    if kind is None:
        return f"WhatsApp does not take {attachment.filename} ({attachment.content_type}): {_TAKES}"
    _, limit, label = _KINDS[kind]
    data = attachment.data or b""
    if kind == "sticker" and b"ANIM" in data[:64]:  # an animated WebP carries an ANIM chunk up front
        limit = _ANIMATED_STICKER_BYTES
    size = len(data) if attachment.data is not None else attachment.size
    if size > limit:
        return f"{attachment.filename} is {_size(size)}; WhatsApp takes {label} up to {_size(limit)}"
    return None


class WhatsAppSender:
    """Delivers replies through the Graph API; returns the first message's wamid."""

    channel = "whatsapp"

    def __init__(self, settings: WhatsAppSettings, graph: GraphClient) -> None:
        self.settings = settings
        self.graph = graph

    async def erase(self, external_ids: Collection[str]) -> int:
        """Messages sent through the Cloud API have left: nothing is kept here."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Send a reply (text parts, then attachments) or a template; return the first wamid.

        A part ``parts`` records as sent is skipped; each part sent is recorded before the next goes."""
        parts = parts if parts is not None else MemoryParts()
        to = recipient_fields(message.to_address)
        number = self.settings.number_of(message.inbox)
        bodies: list[dict[str, Any] | AttachmentView] = []
        if message.template:
            bodies.append(self._template(message))
        elif message.choices:
            bodies.append(_choice_list(message))
        else:
            if message.text.strip() or not message.attachments:
                bodies += [
                    {"type": "text", "text": {"preview_url": False, "body": part}}
                    for part in split_text(message.text)
                ]
            bodies += [a for a in message.attachments if a.data is not None]
        refusals = [r for a in message.attachments if a.data is not None and (r := media_refusal(a))]
        if refusals:  # before any part goes out: never the text without its files
            raise PermanentDeliveryError("; ".join(refusals), remedy="none")
        first: str | None = None
        for index, body in enumerate(bodies):
            wamid = parts.sent(index)
            if wamid is None:
                if isinstance(body, AttachmentView):
                    body = await self._media(body, number)
                wamid = await self.graph.send_message({"recipient_type": "individual", **to, **body}, number)
                await parts.record(index, wamid)
                faults.hit("whatsapp_part_sent")  # crash tests: a part went out, the next not yet
            first = first or wamid
        log.info(
            "whatsapp message sent", extra={"conversation": message.conversation_number, "parts": len(bodies)}
        )
        assert first is not None
        return first

    def _template(self, message: OutboundView) -> dict[str, Any]:
        name = message.template or ""
        declared = self.settings.templates.get(name)
        if declared is None:
            raise PermanentDeliveryError(f"template '{name}' is not in [channels.whatsapp.templates]")
        template: dict[str, Any] = {"name": name, "language": {"code": declared.language}}
        components = template_components(name, declared, message.template_params)
        if components:
            template["components"] = components
        return {"type": "template", "template": template}

    async def _media(self, attachment: AttachmentView, number: str) -> dict[str, Any]:
        assert attachment.data is not None
        kind = media_kind(attachment.content_type)
        assert kind is not None  # media_refusal checked it
        data, mime = attachment.data, attachment.content_type.split(";")[0].strip().lower()
        media_id = await self.graph.upload_media(data, mime, attachment.filename, number)
        media: dict[str, Any] = {"id": media_id}
        if kind == "document":
            media["filename"] = attachment.filename
        return {"type": kind, kind: media}


def template_components(
    name: str, declared: ApprovedTemplate, values: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The Cloud API ``components`` of a template send: the header's parameter, the body's (named or
    positional), then one per button, taking ``values`` in that order."""
    if len(values) != len(declared.slots()):
        raise PermanentDeliveryError(
            f"template '{name}' takes {len(declared.slots())} parameter(s), the reply has {len(values)}",
            remedy="none",
        )
    rest = list(values)
    components: list[dict[str, Any]] = []
    if declared.header is not None:
        value = rest.pop(0)
        if declared.header == "text":
            parameter: dict[str, Any] = {"type": "text", "text": value}
        elif value.startswith("https://"):
            parameter = {"type": declared.header, declared.header: {"link": value}}
        else:
            raise PermanentDeliveryError(
                f"the template's {declared.header} header needs an https:// link, not '{value[:60]}'",
                remedy="none",
            )
        components.append({"type": "header", "parameters": [parameter]})
    count = len(declared.named) or declared.parameters
    body, rest = rest[:count], rest[count:]
    if body:
        names: tuple[str | None, ...] = declared.named or (None,) * count
        components.append(
            {
                "type": "body",
                "parameters": [
                    {"type": "text", **({"parameter_name": n} if n else {}), "text": v}
                    for n, v in zip(names, body, strict=True)
                ],
            }
        )
    for index, (kind, value) in enumerate(zip(declared.buttons, rest, strict=True)):
        given = (
            {"type": "payload", "payload": value}
            if kind == "quick_reply"
            else {"type": "text", "text": value}
        )
        components.append({"type": "button", "sub_type": kind, "index": str(index), "parameters": [given]})
    return components


def _choice_list(message: OutboundView) -> dict[str, Any]:
    """An interactive list message: the text, and one row per choice (WhatsApp allows 10, titles ≤ 24)."""
    rows = [{"id": f"choice-{n}", "title": title[:24]} for n, title in enumerate(message.choices[:10], 1)]
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": message.text[:1024]},
            "action": {"button": "Choose", "sections": [{"title": "Choose one", "rows": rows}]},
        },
    }
