"""The one text splitter: pieces within a limit, cut where a reader would not notice.

A cut prefers a paragraph break, then a line break, then a space, in the second half of the
piece (``separators``). A word longer than that is cut hard: with ``careful`` (the default)
never inside a link (it starts the next piece, whole if it fits there), a character a reader
sees as one symbol (combining marks, joiners, variation selectors, skin tones, tag characters,
flag pairs) or an escape (``escape`` before a character: ``\\*`` in Discord markdown);
without, at the limit. ``units`` says how a platform counts length (characters, or UTF-16
code units for Slack). ``trim`` drops the whitespace around each cut (and a whitespace-only
tail); without it the pieces joined with the separators dropped between them give the text back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["char_units", "fit", "safe_cut", "split_text", "utf16_units"]

Units = Callable[[str], int]
"""How many units one character counts for."""

_URL = re.compile(r"https?://[^\s<>]+")
_JOINERS = {"\u200d", "\u20e3"}
_PARAGRAPH_LINE_WORD = ("\n\n", "\n", " ")


def char_units(char: str) -> int:
    """One character counts one (Discord, WhatsApp)."""
    return 1


def utf16_units(char: str) -> int:
    """UTF-16 code units: two for a character outside the Basic Multilingual Plane (Slack)."""
    return 2 if ord(char) > 0xFFFF else 1


def _length(text: str, units: Units) -> int:
    return len(text) if units is char_units else sum(units(c) for c in text)


def fit(text: str, limit: int, units: Units = char_units) -> int:
    """The largest index ``i`` such that ``text[:i]`` is at most ``limit`` units."""
    if units is char_units:
        return min(limit, len(text))
    total = 0
    for index, char in enumerate(text):
        total += units(char)
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


def _escaped(text: str, cut: int, escape: str | None) -> bool:
    """Whether ``text[cut]`` is escaped: an odd run of ``escape`` characters stands before it."""
    if escape is None or text[cut - 1] != escape:
        return False
    head = text[:cut]
    return (len(head) - len(head.rstrip(escape))) % 2 == 1


def safe_cut(text: str, cut: int, units: Units = char_units, escape: str | None = None) -> int:
    """Move ``cut`` back until it splits no visible symbol and no escape (at least one character)."""
    while 0 < cut < len(text) and (_binds(text[cut - 1], text[cut]) or _escaped(text, cut, escape)):
        cut -= 1
    return cut if cut > 0 else fit(text, 1, units)


def _hard_cut(text: str, end: int, units: Units, escape: str | None) -> int:
    """Where a piece with no break in its second half ends: before a link that ``end`` would
    split (when it does not start the text), else at the last safe place."""
    for match in _URL.finditer(text, max(0, end - 4096), min(len(text), end + 4096)):
        if match.start() < end < match.end() and match.start() > 0:
            return match.start()
    return safe_cut(text, end, units, escape)


def split_text(
    text: str,
    limit: int,
    *,
    units: Units = char_units,
    separators: tuple[str, ...] = _PARAGRAPH_LINE_WORD,
    careful: bool = True,
    escape: str | None = None,
    trim: bool = True,
) -> list[str]:
    """``text`` in pieces of at most ``limit`` units, in order (``[""]`` for empty text)."""
    pieces: list[str] = []
    rest = text
    while _length(rest, units) > limit:
        end = fit(rest, limit, units)
        floor = end // 2
        cut, start = -1, -1
        for separator in separators:
            at = rest.rfind(separator, floor, end)
            if at > 0:
                cut, start = at, at + len(separator)
                break
        if cut < 0:
            cut = _hard_cut(rest, end, units, escape) if careful else max(end, 1)
            start = cut
        piece, rest = rest[:cut], rest[start:]
        if trim:
            piece, rest = piece.rstrip(), rest.lstrip()
        pieces.append(piece)
    if (rest.strip() if trim else rest) or not pieces:
        pieces.append(rest)
    return pieces
