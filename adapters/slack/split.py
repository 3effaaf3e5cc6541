"""Cutting long text for Slack: pieces within a length limit, never inside a character, an entity or a link.

Slack's limits (3,000 per section text, 2,000 per field, about 12,000 for all text of a
message's blocks; https://docs.slack.dev/reference/block-kit/blocks) are counted here in UTF-16
code units, which is never fewer than the characters Slack counts. ``split_plain`` is the shared
splitter (``bot.text.split``) counting those units and keeping the separators' text exact: a cut
prefers a paragraph break, then a line break, then a space; a word longer than a piece is cut
where no visible symbol is split, and a link is kept whole when it fits. ``clip_escaped``
shortens escaped mrkdwn without leaving half an ``&amp;``.
"""

from __future__ import annotations

import re

from bot.text import fit, safe_cut, split_text, utf16_units

__all__ = ["clip", "clip_escaped", "split_plain", "units"]

_ENTITY = re.compile(r"&[a-z]{0,4};?$")


def units(text: str) -> int:
    """The length Slack's limits are checked against here (UTF-16 code units)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def split_plain(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` units, in order; joined with their separators it is whole."""
    return split_text(text, limit, units=utf16_units, trim=False)


def _head(text: str, limit: int) -> str:
    """The longest safe start of ``text`` within ``limit`` units."""
    return text[: safe_cut(text, fit(text, limit, utf16_units), utf16_units)]


def clip(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` units with an ellipsis, at a safe place."""
    if units(text) <= limit:
        return text
    return _head(text, limit - 1) + "…"


def clip_escaped(escaped: str, limit: int) -> str:
    """Escaped mrkdwn shortened to at most ``limit`` units, never ending inside an entity."""
    if units(escaped) <= limit:
        return escaped
    return _ENTITY.sub("", _head(escaped, limit - 1)) + "…"
