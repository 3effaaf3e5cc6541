"""Cutting long text for Slack: pieces within a length limit, never inside a character, an entity or a link.

Slack's limits (3,000 per section text, 2,000 per field, about 12,000 for all text of a
message's blocks; https://docs.slack.dev/reference/block-kit/blocks) are counted here in UTF-16
code units, which is never fewer than the characters Slack counts. A cut prefers a paragraph
break, then a line break, then a space; a word longer than a piece is cut where no combining
mark, joiner, variation selector or flag pair is split, and a link is kept whole when it fits.
``clip_escaped`` shortens escaped mrkdwn without leaving half an ``&amp;``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clip", "clip_escaped", "split_plain", "units"]

_ENTITY = re.compile(r"&[a-z]{0,4};?$")
_JOINERS = {"\u200d", "\u20e3"}


def units(text: str) -> int:
    """The length Slack's limits are checked against here (UTF-16 code units)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _fit(text: str, limit: int) -> int:
    """The largest index ``i`` such that ``text[:i]`` is at most ``limit`` units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return index
    return len(text)


def _binds(before: str, after: str) -> bool:
    """True when a cut between these two characters would split what a reader sees as one."""
    if unicodedata.combining(after) or unicodedata.category(after) in ("Mn", "Me", "Mc"):
        return True
    if after in _JOINERS or before in _JOINERS or "\ufe00" <= after <= "\ufe0f":
        return True
    if "\U0001f3fb" <= after <= "\U0001f3ff" or "\U000e0020" <= after <= "\U000e007f":
        return True
    regional = "\U0001f1e6", "\U0001f1ff"
    return regional[0] <= before <= regional[1] and regional[0] <= after <= regional[1]


def _safe(text: str, cut: int) -> int:
    """Move ``cut`` back until it splits no visible character."""
    while 0 < cut < len(text) and _binds(text[cut - 1], text[cut]):
        cut -= 1
    return cut if cut > 0 else _fit(text, 1)


def _cut(text: str, limit: int) -> tuple[int, int]:
    """Where to end the first piece and where the rest starts (a separator between them is dropped)."""
    end = _fit(text, limit)
    floor = end // 2
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, floor, end)
        if at > 0:
            return at, at + len(separator)
    link = max(text.rfind("http://", 0, end), text.rfind("https://", 0, end))
    if link > 0 and not any(c.isspace() for c in text[link:end]):
        return link, link  # the link starts the next piece, whole if it fits there
    cut = _safe(text, end)
    return cut, cut


def split_plain(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` units, in order; joined with their separators it is whole."""
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        end, start = _cut(rest, limit)
        pieces.append(rest[:end])
        rest = rest[start:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def clip(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` units with an ellipsis, at a safe place."""
    if units(text) <= limit:
        return text
    return text[: _safe(text, _fit(text, limit - 1))] + "…"


def clip_escaped(escaped: str, limit: int) -> str:
    """Escaped mrkdwn shortened to at most ``limit`` units, never ending inside an entity."""
    if units(escaped) <= limit:
        return escaped
    head = escaped[: _safe(escaped, _fit(escaped, limit - 1))]
    return _ENTITY.sub("", head) + "…"
