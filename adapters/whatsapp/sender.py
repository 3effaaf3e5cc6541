"""The WhatsApp ``ChannelSender``: replies as text messages (split at 4,096 chars), media and templates.

The 24-hour window is enforced by the core before anything is queued; if Meta
still refuses (error 131047) the reason tells the team to send a template.
Parts already sent for a message uid are remembered, so a retry after a partial
failure does not send the first parts twice (the Graph API has no idempotency key).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from adapters.whatsapp.graph import GraphClient
from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports import PermanentDeliveryError
from bot.views import AttachmentView, OutboundView

__all__ = ["MAX_TEXT_CHARS", "WhatsAppSender", "media_kind", "split_text"]

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096
"""The Cloud API's limit on a text message body."""

_IMAGE = {"image/jpeg", "image/png"}
_VIDEO = {"video/mp4", "video/3gpp"}
_AUDIO = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}
_REMEMBERED = 2000


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` chars, at a line break or space when there is one."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        if cut <= 0:
            cut = rest.rfind(" ", limit // 2, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


def media_kind(content_type: str) -> str:
    """The Cloud API message type for a file: image, video, audio or document."""
    mime = content_type.split(";")[0].strip().lower()
    if mime in _IMAGE:
        return "image"
    if mime in _VIDEO:
        return "video"
    if mime in _AUDIO:
        return "audio"
    return "document"


class WhatsAppSender:
    """Delivers replies through the Graph API; returns the first message's wamid."""

    channel = "whatsapp"

    def __init__(self, settings: WhatsAppSettings, graph: GraphClient) -> None:
        self.settings = settings
        self.graph = graph
        self._sent: OrderedDict[str, str] = OrderedDict()

    async def send(self, message: OutboundView) -> str:
        """Send a reply (text parts, then attachments) or a template; return the first wamid."""
        to = "".join(ch for ch in message.to_address if ch.isdigit())
        if not to:
            raise PermanentDeliveryError("the customer has no WhatsApp number on record")
        bodies: list[dict[str, Any] | AttachmentView] = []
        if message.template:
            bodies.append(self._template(message))
        elif message.choices:
            bodies.append(_choice_list(message))
        else:
            if message.text.strip() or not message.attachments:
                bodies += [{"type": "text", "text": {"preview_url": False, "body": part}}
                           for part in split_text(message.text)]
            bodies += [a for a in message.attachments if a.data is not None]
        first: str | None = None
        for index, body in enumerate(bodies):
            key = f"{message.uid}:{index}"
            wamid = self._sent.get(key)
            if wamid is None:
                if isinstance(body, AttachmentView):
                    body = await self._media(body)
                wamid = await self.graph.send_message({"recipient_type": "individual", "to": to, **body})
                self._remember(key, wamid)
            first = first or wamid
        log.info("whatsapp message sent",
                 extra={"conversation": message.conversation_number, "parts": len(bodies)})
        assert first is not None
        return first

    def _remember(self, key: str, wamid: str) -> None:
        self._sent[key] = wamid
        while len(self._sent) > _REMEMBERED:
            self._sent.popitem(last=False)

    def _template(self, message: OutboundView) -> dict[str, Any]:
        name = message.template or ""
        declared = self.settings.templates.get(name)
        if declared is None:
            raise PermanentDeliveryError(f"template '{name}' is not in [channels.whatsapp.templates]")
        template: dict[str, Any] = {"name": name, "language": {"code": declared.language}}
        if message.template_params:
            template["components"] = [{
                "type": "body",
                "parameters": [{"type": "text", "text": value} for value in message.template_params],
            }]
        return {"type": "template", "template": template}

    async def _media(self, attachment: AttachmentView) -> dict[str, Any]:
        assert attachment.data is not None
        kind = media_kind(attachment.content_type)
        data, mime = attachment.data, attachment.content_type
        media_id = await self.graph.upload_media(data, mime, attachment.filename)
        media: dict[str, Any] = {"id": media_id}
        if kind == "document":
            media["filename"] = attachment.filename
        return {"type": kind, kind: media}


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
