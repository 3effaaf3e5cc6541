"""Files an agent attaches to a reply: within the customer channel's limits, or refused with the reason.

Email: every file and all of them together at most ``channels.email.max_attachment_bytes``
(25 MB by default, what common mail providers accept). WhatsApp Cloud API media limits
(developers.facebook.com/docs/whatsapp/cloud-api/reference/media, "Supported media types"):
images 5 MB, audio and video 16 MB, documents 100 MB. A file the surface could not fetch
(``data`` None) is refused too: nothing is sent without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Settings
from bot.ports.inbound import InboundAttachment

__all__ = ["files_refusal"]

_MB = 1024 * 1024
_WHATSAPP = {"image": 5 * _MB, "audio": 16 * _MB, "video": 16 * _MB}
_WHATSAPP_DOCUMENT = 100 * _MB


def _mb(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def _limit(settings: Settings, channel: str, content_type: str) -> int:
    if channel == "whatsapp":
        return _WHATSAPP.get(content_type.partition("/")[0], _WHATSAPP_DOCUMENT)
    limit = settings.attachment_limit(channel)
    return 25 * _MB if limit is None else limit


def files_refusal(settings: Settings, channel: str, files: Sequence[InboundAttachment]) -> str | None:
    """Why these files cannot go to the customer on ``channel``; None when they can."""
    for f in files:
        limit = _limit(settings, channel, f.content_type)
        if f.size > limit:
            return (
                f"{f.filename} is {_mb(f.size)}; {channel} takes at most {_mb(limit)} per file. Send a link."
            )
        if f.data is None:
            return f"{f.filename} could not be fetched from the chat; attach it again, or send a link."
    total, limit = sum(f.size for f in files), _limit(settings, channel, "")
    if channel == "email" and total > limit:
        return f"The files are {_mb(total)} together; email takes at most {_mb(limit)}. Send fewer, or links."
    return None
