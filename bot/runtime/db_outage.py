"""A database outage, told once: one log line when the database stops answering, one when it is back.

Every loop of an instance that needs the database (the outbox, the mailbox readers, the
scheduled jobs) reports its failures to one shared ``DatabaseOutage`` instead of
logging a traceback per attempt; the loops wait with exponential backoff while it
lasts. A database failure is never a delivery failure of a surface or channel.
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

    def __init__(self, backoff_initial: float = 0.5, backoff_max: float = 30.0) -> None:
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        """True from the first failure until the next success."""
        return self.since is not None

    def failed(self, where: str, exc: BaseException) -> float:
        """Record a failure in ``where``; log only the first of an outage; the seconds to wait."""
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
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
        log.warning(
            "database reachable again",
            extra={"outage_seconds": round(time.monotonic() - self.since, 1), "failures": self.failures},
        )
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
