"""Discord text: customer text made inert (escaped markdown) and the one splitter for Discord's limits.

Discord's markdown treats a backslash before a punctuation character as an escape: the character
is shown as typed and the backslash is not (Discord Help Center, "Markdown Text 101"). ``escape``
puts one before every character that could format (emphasis, strike, spoiler, code, masked links
``[text](url)``, mentions and channel links ``<@…>``/``<#…>``, and at a line's start headings,
quotes and lists). Bare URLs stay as they are: a backslash inside one would break the link, and
a bare URL cannot disguise itself.

``split_text`` cuts at a paragraph, line or word break where it can and never inside an escape
(``\\*``), a URL, or a character sequence that shows as one symbol (combining marks, emoji joined
with ZWJ, variation selectors, skin tones).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["escape", "split_text", "unescape"]

_URL = re.compile(r"https?://[^\s<>]+")
_INLINE = re.compile(r"([\\*_~`|\[\]<])")
_LINE_START = re.compile(r"^([ \t]*)(\d+)?([#>+.)-])", re.MULTILINE)
_JOINERS = {"\u200d", "\u20e3"}


def _escape_plain(text: str) -> str:
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m[1] + (m[2] or "") + "\\" + m[3], text)


def escape(text: str) -> str:
    """``text`` as Discord shows it literally: every formatting character escaped, bare URLs kept."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(_escape_plain(text[last : match.start()]))
        parts.append(match[0])
        last = match.end()
    parts.append(_escape_plain(text[last:]))
    return "".join(parts)


def unescape(text: str) -> str:
    """What a reader sees of ``escape``'s output (the backslashes gone)."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _glued(text: str, cut: int) -> bool:
    """Whether a cut before ``text[cut]`` would split one visible symbol or an escape."""
    if cut <= 0 or cut >= len(text):
        return False
    char, before = text[cut], text[cut - 1]
    if unicodedata.combining(char) or char in _JOINERS or before == "\u200d":
        return True
    if "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff":
        return True
    if before != "\\":
        return False
    head = text[:cut]
    return (len(head) - len(head.rstrip("\\"))) % 2 == 1  # an odd run of backslashes escapes text[cut]


def _safe_cut(text: str, cut: int) -> int:
    """Move ``cut`` left until it splits neither a URL nor a visible symbol nor an escape."""
    for match in _URL.finditer(text, max(0, cut - 4096), min(len(text), cut + 4096)):
        if match.start() < cut < match.end() and match.start() > 0:
            cut = match.start()
            break
    while cut > 1 and _glued(text, cut):
        cut -= 1
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at a paragraph, line or word break."""
    text = text.strip()
    if not text:
        return [""]
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = window.rfind("\n\n")
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = _safe_cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces
