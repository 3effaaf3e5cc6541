"""A database outage, told once: one log line when the database stops answering, one when it is back.

Every loop of an instance that needs the database (the outbox, the mailbox readers, the
scheduled jobs) reports its failures to one shared ``DatabaseOutage`` instead of
logging a traceback per attempt; the loops wait with exponential backoff while it
lasts. A database failure is never a delivery failure of a surface or channel. A database that
fails again within ``settle_seconds`` of coming back (a server still starting up lets one
connection in and refuses the next) is the same outage: its flaps are logged at debug only.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from storage.db import DatabaseUnavailable

__all__ = ["DatabaseOutage", "is_database_failure"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def is_database_failure(exc: BaseException) -> bool:
    """True when ``exc`` says the database does not answer (adapters ask this; they never see storage)."""
    return isinstance(exc, DatabaseUnavailable)


class DatabaseOutage:
    """This instance's view of the database: up, or down since when (monotonic), with a backoff."""

    def __init__(
        self,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        settle_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.settle_seconds, self.clock = settle_seconds, clock
        self.since: float | None = None
        self.failures = 0
        self._told = False  # this outage's "unreachable" line is written (not a flap of the last one)
        self._back_at: float | None = None  # when the last outage ended

    @property
    def down(self) -> bool:
        """True from the first failure until the next success."""
        return self.since is not None

    def failed(self, where: str, exc: BaseException) -> float:
        """Record a failure in ``where``; log only the first of an outage; the seconds to wait."""
        self.failures += 1
        if self.since is None:
            self.since = self.clock()
            flap = self._back_at is not None and self.since - self._back_at < self.settle_seconds
            self._told = not flap
            if self._told:
                log.warning(
                    "database unreachable; retrying with backoff",
                    extra={"where": where, "error": str(exc)[:300]},
                )
        else:
            log.debug("database still unreachable", extra={"where": where, "failures": self.failures})
        return min(self.backoff_max, self.backoff_initial * 2 ** min(self.failures - 1, 20))

    def succeeded(self) -> None:
        """Something worked with the database: log the recovery once, reset the backoff."""
        if self.since is None:
            return
        if self._told:
            log.warning(
                "database reachable again",
                extra={"outage_seconds": round(self.clock() - self.since, 1), "failures": self.failures},
            )
            self._back_at = self.clock()
        else:
            log.debug("database reachable again after a flap", extra={"failures": self.failures})
        self.since, self.failures = None, 0

    def guard(self, where: str, job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T | None]]:
        """Wrap a scheduled job: a database failure is recorded here (one line per outage), not raised."""

        @functools.wraps(job)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T | None:
            try:
                result = await job(*args, **kwargs)
            except DatabaseUnavailable as exc:
                self.failed(where, exc)
                return None
            self.succeeded()
            return result

        return run
