"""Per-destination pacing: a token bucket for each chat channel (Slack ~1 msg/s, Discord 5 per 5 s).

Two time lines meet here. A bucket refills with the seconds that really pass (it paces
requests to the platform, so it counts ``time.monotonic``). A ``Retry-After`` block is a
deadline on the injected clock, the same clock the outbox schedules its retries on, so a
test that moves its clock past the deadline sees the block over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock

__all__ = ["Pacer", "SurfacePace"]


@dataclass(frozen=True)
class SurfacePace:
    """How fast one chat channel of a surface may be posted to: ``rate`` per second, ``burst`` at once."""

    rate: float
    burst: int


class Pacer:
    """Token buckets keyed by destination; ``wait`` returns when a send is allowed."""

    def __init__(self, clock: Clock, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._clock = clock
        self._monotonic = monotonic
        self._locks: dict[str, asyncio.Lock] = {}
        self._blocked_until: dict[str, float] = {}  # key -> deadline, in the injected clock's seconds

    def delay(self, key: str, rate: float, burst: int) -> float:
        """Take a token if one is there (return 0), else return how long to wait for one."""
        scope = key.split(":", 1)[0]
        deadline = max(self._blocked_until.get(key, 0.0), self._blocked_until.get(scope, 0.0))
        blocked = deadline - self._clock.now().timestamp()
        if blocked > 0:
            return blocked
        now = self._monotonic()
        if rate <= 0:
            return 0.0
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / rate

    async def wait(self, key: str, rate: float, burst: int) -> bool:
        """Sleep until the bucket of ``key`` allows one more send, then take it; True when it slept."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            pause = self.delay(key, rate, burst)
            slept = pause > 0
            while pause > 0:  # a token bucket refills with time, not with an event
                await asyncio.sleep(pause)
                pause = self.delay(key, rate, burst)
        return slept

    def penalise(self, key: str, seconds: float) -> None:
        """After a 429, send nothing to ``key`` (a whole surface, or ``surface:channel``) for ``seconds``."""
        deadline = self._clock.now().timestamp() + seconds
        self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), deadline)
