"""Operations wiring of one instance: health, metrics, leases, outage notices, graceful stop.

``bot/app.py`` builds one ``Operations`` and calls it at a few points; everything
here is core code (no adapter imports): the Prometheus backend is passed in as a
``bot.metrics.Recorder`` plus a ``render`` function.

- Mailboxes: on PostgreSQL each mailbox reader runs under the lease
  ``mailbox:<name>`` (``LeasedWorker``); on SQLite (one instance by definition)
  readers run directly.
- Scheduled jobs: the SLA check uses this instance's name as its lease holder;
  the snooze wake-up is guarded by the lease ``snooze-wake``; digests are claimed
  per run (``digest_runs``), so they need no lease. A clean stop releases every
  lease of this instance.
- A stable ``[ops] instance_name`` lets a restarted instance resume its own
  leases at once instead of waiting for them to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot import metrics
from bot.clock import Clock
from bot.config import Settings
from bot.health import ComponentState, Health
from bot.leader import LeasedWorker, Leases, Worker, default_holder
from bot.outages import OutageTracker
from bot.outbox import Dispatcher
from storage import Store

__all__ = ["Operations"]

log = logging.getLogger(__name__)


class Operations:
    """Health, metrics, leases and outage tracking for one running instance."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        dispatcher: Dispatcher,
        *,
        recorder: metrics.Exporter | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.dispatcher = dispatcher
        ops = settings.ops
        self.instance = ops.instance_name or default_holder()
        self.health = Health(store)
        self.leases = Leases(store, clock, self.instance, ops.lease_seconds)
        self.use_leases = not store.is_sqlite
        self.recorder = recorder
        self.leased: list[LeasedWorker] = []
        self._mailboxes: dict[str, tuple[str, str]] = {}  # probe name -> (inbox, what to call it)
        self._watcher: asyncio.Task[None] | None = None
        self._scheduler: Any = None  # the APScheduler of the jobs adopted in ``adopt_jobs``
        dispatcher.outages = OutageTracker(
            store, settings, clock, self.instance, health=self.health, down_after=ops.down_after_failures
        )
        self.database = dispatcher.database  # one outage log for the outbox and the scheduled jobs

    # --- mailboxes -----------------------------------------------------------------------------
    def mailbox_runner(self, name: str, source: Worker) -> Worker:
        """What to run for mailbox ``name``: the source itself, or the source under its lease."""
        probe_source: Any = source
        leased: LeasedWorker | None = None
        if self.use_leases:
            leased = LeasedWorker(self.leases, f"mailbox:{name}", source)
            self.leased.append(leased)

        def probe() -> ComponentState:
            if leased is not None and not leased.holding:
                return leased.state()
            connected = getattr(probe_source, "connected", None)
            if connected is None or connected.is_set():
                return ComponentState(True, "connected")
            if self.database.down:  # the reader pauses for the database, not for the mail server
                return ComponentState(False, "paused: the database does not answer (retrying)")
            return ComponentState(False, "not connected to the mail server (retrying)")

        self.health.register(f"mailbox:{name}", probe)
        mailbox = self.settings.channels.email.mailboxes[name] if self.settings.channels.email else None
        if mailbox is not None:
            inbox = self.settings.inboxes.get(mailbox.inbox)
            what = f"the {inbox.address if inbox else name} mailbox ({mailbox.kind.upper()})"
            self._mailboxes[f"mailbox:{name}"] = (mailbox.inbox, what)
        return leased if leased is not None else source

    def start(self) -> None:
        """Install the metrics recorder and start watching the mailboxes (outage notices)."""
        self.install_metrics()
        if self._watcher is None:
            self._watcher = asyncio.create_task(self.watch_mailboxes(), name="ops-watch")

    async def watch_mailboxes(self, every: float = 1.0) -> None:
        """Announce a mailbox down for ``[ops] mailbox_down_seconds``, once, and its return, once."""
        limit = self.settings.ops.mailbox_down_seconds
        down_since: dict[str, float] = {}
        announced: dict[str, datetime] = {}
        while True:
            await asyncio.sleep(every)
            states = self.health.components()
            for name, (inbox, what) in self._mailboxes.items():
                state = states.get(name)
                try:
                    if state is not None and not state.ok:
                        started = down_since.setdefault(name, time.monotonic())
                        if name not in announced and time.monotonic() - started >= limit:
                            await self.outages().component_down(name, inbox, what, state.detail)
                            announced[name] = self.clock.now()
                    else:
                        down_since.pop(name, None)
                        if (since := announced.pop(name, None)) is not None:
                            await self.outages().component_up(name, inbox, what, self.clock.now() - since)
                except Exception:
                    log.warning("mailbox outage notice failed", extra={"mailbox": name}, exc_info=True)

    def outages(self) -> OutageTracker:
        """The outage tracker the dispatcher reports to."""
        assert self.dispatcher.outages is not None
        return self.dispatcher.outages

    def watch_ready(self, name: str, is_ready: Callable[[], bool]) -> None:
        """Register a surface's own "connected" flag (e.g. the Discord gateway) for readiness."""

        def probe() -> ComponentState:
            ready = is_ready()
            return ComponentState(ready, "up" if ready else "connecting")

        self.health.register(name, probe)

    def adopt_jobs(self, sla: Any, scheduler: Any, wake_due: Callable[[], Any]) -> None:
        """Scheduled jobs run once across instances: the SLA check's lease is held under this
        instance's name, for ``[ops] lease_seconds``, checked every third of it (so a dead holder's
        check is taken over within 4/3 of a lease); the snooze wake-up (an APScheduler job
        ``snooze-wake``) gets a lease guard; every job reports database failures to ``database``."""
        sla.holder = self.instance
        sla.lease = timedelta(seconds=self.leases.lease_seconds)
        scheduler.reschedule_job("sla-check", trigger="interval", seconds=self.leases.check_every)
        scheduler.modify_job("snooze-wake", func=self.guard_job("snooze-wake", wake_due))
        for job in scheduler.get_jobs():  # a database outage is one log line, not a traceback per run
            scheduler.modify_job(job.id, func=self.database.guard(job.id, job.func))
        self._scheduler = scheduler

    def guard_job(self, name: str, job: Callable[[], Any]) -> Callable[[], Any]:
        """A scheduled job that only the lease holder runs (PostgreSQL); unchanged on SQLite."""
        return self.leases.guarded(name, job) if self.use_leases else job

    # --- metrics -------------------------------------------------------------------------------
    def install_metrics(self) -> None:
        """Make this instance's recorder the process's (``bot.metrics``)."""
        if self.recorder is not None:
            metrics.install(self.recorder)

    async def metrics_text(self) -> bytes:
        """Refresh the outbox gauges from the database, then render every metric."""
        try:
            async with asyncio.timeout(2.0):
                async with self.store.transaction() as repo:
                    depth, age = await repo.outbox_stats(self.clock.now())
            metrics.set_gauge(metrics.OUTBOX_DEPTH, depth)
            metrics.set_gauge(metrics.OUTBOX_AGE, age)
        except Exception as exc:  # scraping must not fail because the database is down
            log.warning("outbox gauges not refreshed", extra={"error": exc.__class__.__name__})
        return self.recorder.render() if self.recorder is not None else b"# metrics are off ([ops] metrics)\n"

    # --- stopping ------------------------------------------------------------------------------
    async def stop_first(self, tasks: Sequence[asyncio.Task[Any]], readers: Sequence[Worker]) -> None:
        """Before surfaces close: stop the mailbox readers (and their leases), then let the outbox
        finish in-flight deliveries for up to ``[ops] shutdown_grace_seconds``; rows claimed but not
        started are handed back at once; after the grace period the rest come back by their claim lease."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()  # no job takes a lease again once they are released below
        for leased in self.leased:
            with contextlib.suppress(Exception):
                await leased.stop()
        if self.use_leases:
            try:
                await self.leases.release_all()
            except Exception as exc:  # they expire on their own after [ops] lease_seconds
                log.warning("leases not released", extra={"error": exc.__class__.__name__})
        for reader in readers:
            with contextlib.suppress(Exception):
                await reader.stop()
        self.dispatcher.stop()
        outbox_task = next((task for task in tasks if task.get_name() == "outbox"), None)
        if outbox_task is not None and not outbox_task.done():
            grace = self.settings.ops.shutdown_grace_seconds
            try:
                await asyncio.wait_for(asyncio.shield(outbox_task), grace)
            except TimeoutError:
                log.warning(
                    "deliveries still running after the grace period; they will be retried",
                    extra={"grace_seconds": grace},
                )
                outbox_task.cancel()
            except Exception:
                log.exception("outbox stopped with an error")
        if self.recorder is not None and metrics.current() is self.recorder:
            metrics.install(None)
