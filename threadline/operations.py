"""Operations wiring of one instance: health, metrics, leases, outage notices, graceful stop.

``threadline.app`` builds one ``Operations`` and calls it at a few points; it imports
no adapter: the Prometheus backend is passed in as a ``bot.runtime.metrics.Exporter``.

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
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.outbox.outages import OutageTracker
from bot.outbox.service import Dispatcher
from bot.runtime import metrics
from bot.runtime.db_outage import DatabaseOutage
from bot.runtime.health import ComponentState, Health
from bot.runtime.leases import LeasedWorker, Leases, Worker
from storage import Store
from threadline.config import AppSettings
from threadline.plug_ports import MailboxReader

__all__ = ["Operations"]

log = logging.getLogger(__name__)


class Operations:
    """Health, metrics, leases and outage tracking for one running instance."""

    def __init__(
        self,
        store: Store,
        settings: AppSettings,
        clock: Clock,
        dispatcher: Dispatcher,
        *,
        instance: str,
        health: Health,
        outages: OutageTracker,
        database: DatabaseOutage,
        recorder: metrics.Exporter | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.dispatcher = dispatcher
        self.instance = instance
        self.health = health
        self.outages = outages
        self.leases = Leases(store, clock, instance, settings.ops.lease_seconds)
        self.use_leases = not store.is_sqlite
        self.recorder = recorder
        self.leased: list[LeasedWorker] = []
        self.readers: list[MailboxReader] = []  # every mailbox reader handed out, stopped first
        self._mailboxes: dict[str, tuple[str, str]] = {}  # probe name -> (inbox, what to call it)
        self._watcher: asyncio.Task[None] | None = None
        self.database = database  # one outage log for the outbox, the mailboxes and the scheduled jobs

    # --- mailboxes -----------------------------------------------------------------------------
    def mailbox_runner(self, name: str, source: MailboxReader) -> Worker:
        """What to run for mailbox ``name``: the source itself, or the source under its lease."""
        self.readers.append(source)
        leased: LeasedWorker | None = None
        if self.use_leases:
            leased = LeasedWorker(self.leases, f"mailbox:{name}", source)
            self.leased.append(leased)

        def probe() -> ComponentState:
            if leased is not None and not leased.holding:
                return leased.state()
            if problem := source.auth_problem:
                return ComponentState(False, problem, sign_in=True)
            if source.is_connected():
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
                        wait = 0.0 if state.sign_in else limit  # no reconnect fixes a refused sign-in
                        if name not in announced and time.monotonic() - started >= wait:
                            await self.outages.component_down(
                                name, inbox, what, state.detail, sign_in=state.sign_in
                            )
                            announced[name] = self.clock.now()
                    else:
                        down_since.pop(name, None)
                        if (since := announced.pop(name, None)) is not None:
                            await self.outages.component_up(name, inbox, what, self.clock.now() - since)
                except Exception:
                    log.warning("mailbox outage notice failed", extra={"mailbox": name}, exc_info=True)

    def guard_job(self, name: str, job: Callable[[], Any]) -> Callable[[], Any]:
        """A scheduled job that only the lease holder runs (PostgreSQL); unchanged on SQLite."""
        return self.leases.guarded(name, job) if self.use_leases else job

    # --- metrics -------------------------------------------------------------------------------
    def install_metrics(self) -> None:
        """Make this instance's recorder the process's (``bot.runtime.metrics``)."""
        if self.recorder is not None:
            metrics.install(self.recorder)

    async def metrics_text(self) -> bytes:
        """Refresh the outbox gauges from the database, then render every metric."""
        try:
            async with asyncio.timeout(2.0):
                async with self.store.transaction() as uow:
                    depth, age = await uow.outbox.outbox_stats(self.clock.now())
            metrics.set_gauge(metrics.OUTBOX_DEPTH, depth)
            metrics.set_gauge(metrics.OUTBOX_AGE, age)
        except Exception as exc:  # scraping must not fail because the database is down
            log.warning("outbox gauges not refreshed", extra={"error": exc.__class__.__name__})
        return self.recorder.render() if self.recorder is not None else b"# metrics are off ([ops] metrics)\n"

    # --- stopping ------------------------------------------------------------------------------
    async def stop_first(self, tasks: Sequence[asyncio.Task[Any]]) -> None:
        """Before surfaces close: stop the mailbox readers (and their leases), then let the outbox
        finish in-flight deliveries for up to ``[ops] shutdown_grace_seconds``; rows claimed but not
        started are handed back at once; after the grace period the rest come back by their claim lease."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        for leased in self.leased:
            with contextlib.suppress(Exception):
                await leased.stop()
        if self.use_leases:
            try:
                await self.leases.release_all()
            except Exception as exc:  # they expire on their own after [ops] lease_seconds
                log.warning("leases not released", extra={"error": exc.__class__.__name__})
        for reader in self.readers:
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
