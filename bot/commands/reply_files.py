"""Files an agent attaches to a reply: within the customer channel's limits, or refused with the reason.

Each channel's adapter declares its limits (``ChannelRules.file_limits``, per media family,
and whether they bound all files of a message together: email's
``channels.email.max_attachment_bytes``, WhatsApp's Cloud API media limits). A file the
surface could not fetch (``data`` None) is refused too: nothing is sent without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Settings
from bot.ports.inbound import InboundAttachment

__all__ = ["files_refusal"]

_MB = 1024 * 1024


def _mb(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def files_refusal(settings: Settings, channel: str, files: Sequence[InboundAttachment]) -> str | None:
    """Why these files cannot go to the customer on ``channel``; None when they can."""
    rules = settings.channel_rules(channel)
    for f in files:
        limit = rules.file_limit(f.content_type)
        if f.size > limit:
            return (
                f"{f.filename} is {_mb(f.size)}; {channel} takes at most {_mb(limit)} per file. Send a link."
            )
        if f.data is None:
            return f"{f.filename} could not be fetched from the chat; attach it again, or send a link."
    total, limit = sum(f.size for f in files), rules.file_limit("")
    if rules.files_limited_together and total > limit:
        return (
            f"The files are {_mb(total)} together; {channel} takes at most {_mb(limit)}. "
            "Send fewer, or links."
        )
    return None
