"""Time sources: the system clock, the database's clock, and a manual one that tests move by hand."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "DatabaseClock", "ManualClock", "SystemClock"]

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock, shifted by ``offset`` (zero but in tests that skew an instance's clock)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC) + self.offset


class DatabaseClock:
    """The database server's clock, so instances whose own clocks disagree still agree on time.

    Leases, claims, SLA due checks and digest periods compare moments written by different
    instances; on a shared PostgreSQL each instance reads the server's clock (``read``) on
    start and every ``every`` seconds, and tells the time in between as that reading plus
    the monotonic time since (halfway through the reading's round trip). Its own wall clock
    (``fallback``) is used only before the first reading; a failed reading keeps the last one.
    """

    def __init__(
        self, read: Callable[[], Awaitable[datetime]], fallback: Clock, *, every: float = 30.0
    ) -> None:
        self._read = read
        self._fallback = fallback
        self.every = every
        self._anchor: tuple[datetime, float] | None = None
        self._told = False

    async def sync(self) -> timedelta:
        """Read the database's clock now; how far it is ahead of the fallback clock (logged once
        when more than 2 s)."""
        before = time.monotonic()
        database = await self._read()
        after = time.monotonic()
        self._anchor = (database, (before + after) / 2)
        ahead = self.now() - self._fallback.now()
        if abs(ahead) > timedelta(seconds=2) and not self._told:
            self._told = True
            log.warning(
                "this host's clock differs from the database's; jobs and leases follow the database",
                extra={"database_ahead_seconds": round(ahead.total_seconds(), 1)},
            )
        return ahead

    def now(self) -> datetime:
        """The database's time now (the fallback clock's before the first reading)."""
        if self._anchor is None:
            return self._fallback.now()
        database, at = self._anchor
        return database + timedelta(seconds=time.monotonic() - at)

    async def run(self) -> None:
        """Read the database's clock every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.sync()
            except Exception as exc:  # the database is away: keep counting from the last reading
                log.debug("database clock not read", extra={"error": exc.__class__.__name__})


class ManualClock:
    """A clock that only moves when told to; for tests and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Put the clock at ``moment`` (aware)."""
        self._now = moment
