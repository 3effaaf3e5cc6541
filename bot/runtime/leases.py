"""Instance leases: each mailbox reader and each scheduled job runs in one instance at a time.

Leases are rows of the ``leases`` table (``uow.leases.take``, the helper the
SLA check already uses): a holder takes a free or expired lease, renews it every
third of its length, and gives it up on a clean stop. When an instance dies its
leases expire and another instance takes over within ``lease_seconds`` (plus one
renewal interval).

Safety does not rest on the lease alone: a reader that loses its lease stops
before the lease could have expired for others (it counts from its last
successful renewal on its own monotonic clock), and whatever still overlaps (a
paused process waking up) is caught by the unique keys underneath — inbound
Message-IDs, reminder keys, digest runs. The lease keeps the work single in the
normal case; the keys keep the data right in every case. ``expires_at`` is written
and compared on the injected clock, which on PostgreSQL is the database server's
(``bot.clock.DatabaseClock``), so instances whose hosts' clocks disagree still agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol, TypeVar

from bot.clock import Clock
from bot.runtime.health import ComponentState
from storage import Store
from storage.db import DatabaseUnavailable

__all__ = ["LeasedWorker", "Leases", "Worker", "default_holder"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def default_holder(name: str | None = None) -> str:
    """This instance's name as a lease holder: ``name`` or host:pid, always with a random suffix."""
    base = name or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base[:80]}:{uuid.uuid4().hex[:8]}"


class Worker(Protocol):
    """Something that runs until stopped (an IMAP worker, a spool folder reader)."""

    async def run(self) -> None:
        """Run until ``stop()``."""
        ...

    async def stop(self) -> None:
        """Ask ``run`` to return and wait for it."""
        ...


class Leases:
    """Takes, renews and releases named leases for one holder."""

    def __init__(self, store: Store, clock: Clock, holder: str, lease_seconds: float = 6.0) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.lease_seconds = lease_seconds

    async def take(self, name: str) -> bool:
        """Take or renew ``name``; False while another live holder has it."""
        now = self.clock.now()
        async with self.store.transaction() as uow:
            return await uow.leases.take(name, self.holder, now, now + timedelta(seconds=self.lease_seconds))

    @property
    def check_every(self) -> float:
        """Seconds between renewals and between a standby's attempts to take a lease: a third of it."""
        return self.lease_seconds / 3

    async def release(self, name: str) -> None:
        """Give ``name`` up so another instance can take it at once."""
        async with self.store.transaction() as uow:
            await uow.leases.release(name, self.holder)

    async def release_all(self) -> None:
        """Give up every lease this holder has (a clean stop): a restart under any name takes them at once."""
        async with self.store.transaction() as uow:
            await uow.leases.release_all(self.holder)

    def guarded(self, name: str, job: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T | None]]:
        """Wrap a scheduled job: it runs only in the instance holding (or able to take) lease ``name``."""

        async def run() -> T | None:
            try:
                if not await self.take(name):
                    return None
            except DatabaseUnavailable:
                raise  # the job's database guard logs the outage once
            except Exception:
                log.warning("lease check failed; job skipped this time", extra={"lease": name}, exc_info=True)
                return None
            return await job()

        run.__name__ = f"guarded_{name}"
        return run


def _cause(exc: BaseException) -> str:
    """What readiness says about a failed lease query: the database, or the error's kind."""
    return "the database does not answer" if isinstance(exc, DatabaseUnavailable) else exc.__class__.__name__


class LeasedWorker:
    """Runs ``worker`` only while this instance holds lease ``name``; takes over when the holder dies."""

    def __init__(self, leases: Leases, name: str, worker: Worker) -> None:
        self.leases = leases
        self.name = name
        self.worker = worker
        self.holding = False
        self.problem: str | None = "starting"  # why it does not hold the lease, when not another holder
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def renew_every(self) -> float:
        """Seconds between renewals (and between attempts to take the lease)."""
        return self.leases.check_every

    def state(self) -> ComponentState:
        """For readiness: holding and running, or standby because another instance holds the lease
        (both fine); else the real cause (the database does not answer, or not started yet)."""
        if self.holding:
            return ComponentState(True, "active")
        if self.problem is not None:
            return ComponentState(False, self.problem)
        return ComponentState(True, "standby (another instance holds it)")

    async def run(self) -> None:
        """Until ``stop()``: wait for the lease, run the worker while renewing it, stop it when lost."""
        while not self._stopping.is_set():
            try:
                taken = await self.leases.take(self.name)
            except Exception as exc:
                if not self.problem or self.problem == "starting":  # once per outage, not every attempt
                    log.warning("lease unavailable", extra={"lease": self.name, "error": str(exc)[:300]})
                self.problem = f"cannot take the lease: {_cause(exc)}"
                taken = False
            else:
                self.problem = None
            if taken:
                await self._hold()
            if not self._stopping.is_set():
                await self._sleep(self.renew_every)

    async def _hold(self) -> None:
        self.holding = True
        valid_until = time.monotonic() + self.leases.lease_seconds
        log.info("lease taken; starting", extra={"lease": self.name, "holder": self.leases.holder})
        self._task = asyncio.create_task(self.worker.run(), name=f"leased:{self.name}")
        try:
            while not self._stopping.is_set() and not self._task.done():
                await self._sleep(self.renew_every)
                if self._stopping.is_set():
                    break
                try:
                    if not await self.leases.take(self.name):
                        log.warning("lease lost; stopping", extra={"lease": self.name})
                        break
                    valid_until = time.monotonic() + self.leases.lease_seconds
                except Exception as exc:
                    # Keep working while the lease is surely ours; stop one renewal before it could lapse.
                    if time.monotonic() + self.renew_every >= valid_until:
                        self.problem = f"cannot renew the lease: {_cause(exc)}"
                        log.warning(
                            "lease cannot be renewed; stopping",
                            extra={"lease": self.name, "error": exc.__class__.__name__},
                        )
                        break
        finally:
            await self._stop_worker()
            self.holding = False
        if self._stopping.is_set():
            with contextlib.suppress(Exception):
                await self.leases.release(self.name)

    async def _stop_worker(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(Exception):
            await self.worker.stop()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        except Exception:
            log.exception("leased worker failed", extra={"lease": self.name})

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def stop(self) -> None:
        """Stop the worker (if running here) and release the lease."""
        self._stopping.set()
        await self._stop_worker()
