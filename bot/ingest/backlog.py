"""Backlogs being read: a channel catching up (IMAP after downtime) says more messages follow.

While a backlog is read, deliveries wait (``Ingestor.idle``): storing what customers sent
comes first, and mirroring a backlog into chat is paced by the platform anyway. A backlog
whose reader goes quiet for ``stale_after`` seconds no longer holds anything back, so a
reader that died mid-way never stops deliveries.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Backlogs"]


class Backlogs:
    """Which sources are reading a backlog, by the last message each stored."""

    def __init__(self, stale_after: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after = stale_after
        self.clock = clock
        self._last: dict[str, float] = {}

    def stored(self, source: str, more_follow: bool) -> None:
        """A message of ``source`` was stored; ``more_follow`` when the source has more ready."""
        if more_follow:
            self._last[source] = self.clock()
        else:
            self._last.pop(source, None)

    def active(self) -> bool:
        """True while some source is reading a backlog and made progress recently."""
        now = self.clock()
        for source, at in list(self._last.items()):
            if now - at > self.stale_after:
                del self._last[source]
        return bool(self._last)
