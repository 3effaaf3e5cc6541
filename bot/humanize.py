"""Human-readable figures shared by every surface's rendering: durations and aligned text tables."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["duration_text", "text_table"]


def duration_text(seconds: float | None) -> str:
    """``32 s``, ``42 min``, ``3 h 05 min``, ``2 d 4 h``; ``—`` when there is no figure."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: frozenset[int] = frozenset()
) -> list[str]:
    """Lines of a table whose columns line up, each as wide as its widest cell; ``right`` ones align right."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
    return lines
