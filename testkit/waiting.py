"""Waiting for what a user would see, with a deadline (tests never assert on speed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(
    what: str,
    check: Callable[[], object],
    *,
    timeout: float = 15.0,
    between: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Wait until ``check()`` is true (running ``between`` each round, e.g. an outbox drain); fail with
    ``what`` after ``timeout`` seconds. Tests wait for what a user would see, never assert on speed."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if between is not None:
            await between()
        await asyncio.sleep(0.02)
