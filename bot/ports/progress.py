"""Progress of long work (a backlog read, an erasure, an export), reported to whoever shows it.

The core and the adapters call a ``ProgressCallback`` with how many items are done and how many
there are in all; the composition root decides how to show it (a bar on a terminal, nothing in a pipe).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each item; ``done == total`` when the work is finished."""
