"""What ``threadline doctor`` asks of each adapter: try its credentials and permissions for real.

An adapter offers a ``Checkup``: an async iterator of ``CheckResult``, one per check, each
with the fix when it failed (never a secret value). ``reach`` runs one call within
``CHECK_SECONDS`` and turns an unreachable host into a failed check instead of a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["CHECK_SECONDS", "CheckResult", "Checkup", "Unreachable", "reach"]

CHECK_SECONDS = 10.0
"""The longest one check may take; a host that does not answer by then counts as unreachable."""

T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    """One check: where (``slack``, ``mailbox support``), what was tried, whether it passed, and the fix."""

    where: str
    what: str
    ok: bool
    fix: str = ""


Checkup = Callable[[], AsyncIterator[CheckResult]]
"""An adapter's checks, run in order; each result is printed as it comes."""


class Unreachable(Exception):
    """A host did not answer (refused, unknown name, or no answer within ``CHECK_SECONDS``)."""


async def reach(call: Awaitable[T], host: str, seconds: float = CHECK_SECONDS) -> T:
    """Await ``call`` within ``seconds``; a timeout or a network error becomes ``Unreachable(host)``."""
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError as exc:
        raise Unreachable(f"cannot reach {host}: no answer within {seconds:.0f} s") from exc
    except OSError as exc:  # refused, unknown host, reset (aiohttp's connector errors are OSErrors too)
        raise Unreachable(f"cannot reach {host}: {exc.strerror or exc or type(exc).__name__}") from exc
