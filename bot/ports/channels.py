"""Per-channel rules a customer-channel adapter declares to the core (the core names no platform).

The composition root hands them over through ``Settings.channel_rules`` (and a surface's name
as the team reads it through ``Settings.destination_label``); the core reads only these fields:
how the channel is named in notices, which identity kind holds a customer's address on it, the
customer-service window after which only an approved template may be sent, and where those
templates are declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

__all__ = ["DEFAULT_FILE_LIMIT", "ChannelRules"]

DEFAULT_FILE_LIMIT = 25 * 1024 * 1024
"""The most bytes of one file on a channel that declares no limit (what common mail providers accept)."""


@dataclass(frozen=True)
class ChannelRules:
    """What a customer channel declares: its names, its address kind, its reply window."""

    name: str  # the channel as the team reads it in a sentence ("WhatsApp", "email")
    label: str  # the channel and its transport, for outage notices ("WhatsApp (Cloud API)")
    address_kind: str  # the identity kind of a customer's address on it ("email", "phone")
    # how one address is written the same way twice: lowercased (email), its digits (a phone number),
    # or exactly as given (a chat platform's user id)
    address_form: Literal["lowercase", "digits", "exact"] = "digits"
    reply_window: timedelta | None = None  # free-form replies only this long after the customer wrote
    templates_key: str | None = None  # where its approved templates are declared (``channels.x.templates``)
    # the most bytes one file may have, by media family ("image", "audio", "video"; "" for any other)
    file_limits: tuple[tuple[str, int], ...] = (("", DEFAULT_FILE_LIMIT),)
    files_limited_together: bool = False  # the limit of "" also bounds all files of a message together

    def file_limit(self, content_type: str) -> int:
        """The most bytes one file of ``content_type`` may have on this channel."""
        limits = dict(self.file_limits)
        return limits.get(content_type.partition("/")[0], limits.get("", DEFAULT_FILE_LIMIT))

    def identity(self, address: str) -> tuple[str, str]:
        """The (kind, normalised value) identity of a sender's address on this channel."""
        if self.address_form == "lowercase":
            return self.address_kind, address.strip().lower()
        if self.address_form == "exact":
            return self.address_kind, address.strip()
        digits = "".join(ch for ch in address if ch.isdigit())
        return self.address_kind, digits or address.strip()

    @classmethod
    def generic(cls, channel: str) -> ChannelRules:
        """The rules of a channel that declared none: no window, no templates, addresses of its own kind."""
        return cls(name=channel, label=channel, address_kind=channel)
