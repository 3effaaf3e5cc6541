"""Human-readable figures shared by every surface's rendering."""

from __future__ import annotations

__all__ = ["duration_text", "preview_text"]


def duration_text(seconds: float | None) -> str:
    """``42 min``, ``3 h 05 min``, ``2 d 4 h``; ``—`` when there is no figure."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def preview_text(text: str, chars: int = 60) -> str:
    """``text`` on one line, cut to ``chars`` characters with an ellipsis: how a notice quotes a message."""
    line = " ".join(text.split())
    return line if len(line) <= chars else line[: chars - 1] + "…"
