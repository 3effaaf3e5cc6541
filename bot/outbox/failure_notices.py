"""What a thread says when a reply was not delivered: which reply, why, and only what can help."""

from __future__ import annotations

from bot.config import Settings
from bot.ports import Remedy
from bot.windows import template_hint

__all__ = ["preview", "reply_failed"]

_PREVIEW_CHARS = 60


def preview(text: str) -> str:
    """A message's text on one short line, for quoting it in a notice or a reference."""
    line = " ".join(text.split())
    return line if len(line) <= _PREVIEW_CHARS else line[: _PREVIEW_CHARS - 1] + "…"


def _advice(settings: Settings, channel: str, remedy: Remedy, gave_up: bool) -> str:
    prefix = settings.threadline.command_prefix
    if remedy == "template":
        return f"Sending it again will not help; {template_hint(settings, channel)}."
    if remedy == "none":
        return "Sending it again will not help."
    if gave_up:
        return f"Threadline gave up after several attempts; type {prefix}retry to try again."
    return f"Fix the cause, then type {prefix}retry."


def reply_failed(
    settings: Settings,
    channel: str,
    author: str | None,
    text: str,
    reason: str,
    remedy: Remedy,
    *,
    gave_up: bool = False,
) -> str:
    """The notice for a reply that did not reach the customer (``gave_up``: after retrying a while).

    Surfaces mark notices themselves, so the text starts with no warning sign."""
    why = reason.strip().rstrip(".") or "no reason given"
    return f"The reply by {author or 'an agent'} (“{preview(text)}”) was not delivered: {why}. " + _advice(
        settings, channel, remedy, gave_up
    )
