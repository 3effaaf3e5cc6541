"""Discord text: customer text made inert (escaped markdown) and the one splitter for Discord's limits.

Discord's markdown treats a backslash before a punctuation character as an escape: the character
is shown as typed and the backslash is not (Discord Help Center, "Markdown Text 101"). ``escape``
puts one before every character that could format (emphasis, strike, spoiler, code, masked links
``[text](url)``, mentions and channel links ``<@…>``/``<#…>``, and at a line's start headings,
quotes and lists). Bare URLs stay as they are: a backslash inside one would break the link, and
a bare URL cannot disguise itself.

``split_text`` is the shared splitter (``bot.text.split``) with Discord's limit counted in
characters and its escape character: it cuts at a paragraph, line or word break where it can
and never inside an escape (``\\*``), a URL, or a character sequence that shows as one symbol.
"""

from __future__ import annotations

import re

from bot.text import split_text as shared_split

__all__ = ["escape", "split_text", "unescape"]

_URL = re.compile(r"https?://[^\s<>]+")
_INLINE = re.compile(r"([\\*_~`|\[\]<])")
_LINE_START = re.compile(r"^([ \t]*)(\d+)?([#>+.)-])", re.MULTILINE)


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


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at a paragraph, line or word break
    (the shared splitter, ``bot.text.split``, with Discord's escape character)."""
    return shared_split(text.strip(), limit, escape="\\")
