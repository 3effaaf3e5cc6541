"""Colour for the terminal surface: ANSI styles by what a line shows, or none at all.

Colour is on when the ``[surfaces.local] color`` setting says so, standard output is a
terminal, and ``NO_COLOR`` is not set (https://no-color.org: any non-empty value turns it off).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Palette", "colour_wanted"]

# SGR parameters per kind of line; "reset" ends every styled line.
_STYLES = {
    "card": "1;36",  # bold cyan: a thread opens
    "change": "36",  # cyan: the card changed
    "inbound": "1",  # bold: the customer wrote
    "outbound": "32",  # green: sent to the customer
    "note": "33",  # yellow: internal note
    "event": "2",  # dim: system events
    "notice": "35",  # magenta: delivery problems, SLA notices
    "ok": "32",  # green: a command's answer
    "error": "31",  # red: a command was refused
    "digest": "1;34",  # bold blue
}


def colour_wanted(setting: bool, stream: TextIO) -> bool:
    """Whether to colour what is written to ``stream``: the setting, a terminal, and no ``NO_COLOR``."""
    if not setting or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Palette:
    """Wraps text in the style for its kind, or leaves it plain when colour is off."""

    enabled: bool = False

    def paint(self, kind: str, text: str) -> str:
        """``text`` styled as ``kind`` (unknown kinds and a disabled palette leave it as it is)."""
        code = _STYLES.get(kind)
        if not self.enabled or code is None or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"
