"""The ``[intake]`` section: rules for customers who write from chat (Discord DMs, Slack intake channels)."""

from __future__ import annotations

from pydantic import Field

from bot.settings.core import Strict

__all__ = ["DEFAULT_PLEASANTRIES", "IntakeSettings"]

DEFAULT_PLEASANTRIES = (
    "thanks",
    "thank you",
    "thanks a lot",
    "thank you so much",
    "thx",
    "ty",
    "cheers",
    "ok",
    "okay",
    "great",
    "perfect",
    "got it",
    "bye",
)


class IntakeSettings(Strict):
    """How chat messages become conversations (``bot.ingest.chat_intake``)."""

    pleasantries: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PLEASANTRIES),
        description="messages that never open a new conversation (case and punctuation ignored; "
        "emoji-only messages count too)",
    )
    group_seconds: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="a new top-level message by the same person this soon after their last one "
        "continues that conversation; 0 = every top-level message opens its own",
    )
    opt_out_prefix: str | None = Field(
        "(no ticket)", description="a message starting with this is never taken in; none = off"
    )
