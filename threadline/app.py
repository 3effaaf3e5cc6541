"""The composition root: builds storage, the core services, the configured adapters' plugs and the
workers, and runs them (start in dependency order, stop readers first)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from typing import Any

from adapters.web import WebServer
from adapters.web.metrics import CONTENT_TYPE, PrometheusRecorder
from bot.clock import Clock, DatabaseClock, SystemClock
from bot.commands import CommandService
from bot.digest import DigestService
from bot.ingest.journal import Journal
from bot.ingest.service import Ingestor
from bot.ingest.statuses import DeliveryStatusService
from bot.outbox.outages import OutageTracker
from bot.outbox.queue_views import QueueViews
from bot.outbox.repair import Repairs
from bot.outbox.service import Dispatcher
from bot.ports import ChannelSender, Surface
from bot.ports.progress import ProgressCallback
from bot.runtime.db_outage import DatabaseOutage
from bot.runtime.health import Health
from bot.runtime.leases import default_holder
from bot.sla.checker import SlaChecker
from bot.snooze import SnoozeWaker
from storage import Conflict, Store
from storage.db import DatabaseUnavailable
from storage.db_time import database_now
from storage.migrate import current_revision, head_revision, upgrade
from storage.planner import refresh_statistics
from threadline.config import AppSettings
from threadline.drafting import build_handover
from threadline.operations import Operations
from threadline.plug_ports import CorePorts, Plug, RunPorts
from threadline.plugs import build_plugs
from threadline.scheduler import build_scheduler

__all__ = ["TEST_CLOCK_OFFSET", "SchemaOutOfDate", "Threadline", "clock_skew_for_tests"]

log = logging.getLogger(__name__)

CONNECT_BACKOFF = (1.0, 60.0)
"""Seconds between attempts to connect a surface: the first wait, doubling up to the second."""


TEST_CLOCK_OFFSET = "THREADLINE_TEST_CLOCK_OFFSET"
"""Environment variable: seconds (e.g. ``30`` or ``-30``) this process's clock is shifted by, so
tests can run instances whose clocks disagree; unset in production."""


def clock_skew_for_tests() -> timedelta:
    """The shift ``THREADLINE_TEST_CLOCK_OFFSET`` asks for (zero when unset)."""
    text = os.environ.get(TEST_CLOCK_OFFSET, "").strip()
    try:
        return timedelta(seconds=float(text or 0))
    except ValueError:
        raise ValueError(
            f"{TEST_CLOCK_OFFSET}={text!r} is not a number of seconds; unset it, or write e.g. 30 or -30"
        ) from None


class SchemaOutOfDate(Exception):
    """A PostgreSQL database whose schema is older than the code; run ``threadline db upgrade``."""


class Threadline:
    """One running Threadline: everything wired, started and stopped together."""

    def __init__(
        self,
        settings: AppSettings,
        *,
        clock: Clock | None = None,
        printer: Callable[[str], None] | None = None,
        extra_channels: dict[str, ChannelSender] | None = None,
        progress: Callable[[str], ProgressCallback] | None = None,
    ) -> None:
        self.settings = settings
        self.store = Store(settings.threadline.database_url)
        self.clock = clock or self._default_clock()
        ops = settings.ops
        instance = ops.instance_name or default_holder()
        # inbound deliveries are journaled before they are acknowledged (bot.ingest.journal)
        self.journal = Journal(self.store, self.clock, instance)
        notify = self._notify_outbox  # the outbox is built last; the core services only need to wake it
        self.ingestor = Ingestor(self.store, settings, self.clock, notify)
        self.handover = build_handover(self.store, settings, self.clock, notify)  # [summary] llm = true
        self.commands = CommandService(self.store, settings, self.clock, notify, self.handover)
        self.waker = SnoozeWaker(self.store, settings, self.clock, notify)
        self.statuses = DeliveryStatusService(self.store, settings, self.clock, notify)
        self.queue_views = QueueViews(self.store, self.clock, notify)  # App Home, pinned queue messages
        ports = CorePorts(
            settings,
            self.store,
            self.commands,
            self.ingestor,
            self.statuses,
            self.journal,
            self.clock,
            self.queue_views,
        )
        plugs = build_plugs(ports, printer, progress)
        self.plugs = plugs.all()
        self.surfaces: dict[str, Surface] = {p.name: p.surface for p in self.plugs if p.surface is not None}
        self.channels: dict[str, ChannelSender] = {
            p.sender.channel: p.sender for p in self.plugs if p.sender is not None
        }
        self.channels.update(extra_channels or {})
        self.local = plugs.local.local if plugs.local else None
        self.slack = plugs.slack.adapter if plugs.slack else None
        self.discord = plugs.discord.discord if plugs.discord else None
        self.whatsapp = plugs.whatsapp.channel if plugs.whatsapp else None
        self.email = plugs.email  # its mailbox readers and OAuth2 tokens
        # permanent refusals (bot not in channel, bad token) park conversations until they heal
        self.repairs = Repairs(self.store, settings, self.clock, self.surfaces, notify, holder=instance)
        # /readyz shows each surface's and chat channel's state
        probes = {f"surface:{p.name}": probe for p in self.plugs if (probe := p.ready()) is not None}
        health = Health(self.store, mirrors=self.repairs.report, probes=probes)
        outages = OutageTracker(
            self.store, settings, self.clock, instance, health=health, down_after=ops.down_after_failures
        )
        database = DatabaseOutage()  # one outage log for the outbox, the mailboxes and the scheduled jobs
        self.dispatcher = Dispatcher(
            self.store,
            settings,
            self.clock,
            self.surfaces,
            self.channels,
            paces={p.name: p.pace for p in self.plugs if p.pace is not None},
            outages=outages,
            database=database,
            yield_to=self._yield_to_intake,
            repairs=self.repairs,
        )
        self.web = WebServer(settings.web.host, settings.web.port)  # started only when routes are mounted
        for plug in self.plugs:
            if routes := plug.routes():
                self.web.add_routes(routes)
        self._tasks: list[asyncio.Task[Any]] = []
        self.sla = SlaChecker(
            self.store, settings, self.clock, notify, holder=instance, lease_seconds=ops.lease_seconds
        )
        self.digests = DigestService(
            self.store, settings, self.clock, self.surfaces, self.dispatcher.deliver_claimed
        )
        recorder = PrometheusRecorder() if settings.ops.metrics else None
        self.ops = Operations(
            self.store,
            settings,
            self.clock,
            self.dispatcher,
            instance=instance,
            health=health,
            outages=outages,
            database=database,
            recorder=recorder,
        )
        wake_due = self.ops.guard_job("snooze-wake", self.waker.wake_due)  # one instance wakes snoozes
        self._scheduler = build_scheduler(
            wake_due,
            sla=self.sla,
            sla_check_seconds=self.ops.leases.check_every,  # a dead holder's check is taken over in 4/3 lease
            digests=self.digests,
            database=database,
            statistics=partial(refresh_statistics, self.store) if self.store.is_sqlite else None,
        )
        self.run_ports = RunPorts(self._spawn, self.ops.mailbox_runner)  # what the plugs start with
        self.web.serve_operations(self.ops.health.readiness, self.ops.metrics_text, CONTENT_TYPE)

    def _default_clock(self) -> Clock:
        """This host's clock on SQLite (one process, on the machine the file is on); the database
        server's on PostgreSQL, where instances on several hosts compare each other's moments."""
        local = SystemClock(clock_skew_for_tests())
        return local if self.store.is_sqlite else DatabaseClock(partial(database_now, self.store), local)

    def _notify_outbox(self) -> None:
        """Wake the outbox: something was queued."""
        self.dispatcher.notify()

    async def _yield_to_intake(self) -> None:
        """Deliveries wait while a burst is being acknowledged, then until what came in is stored."""
        await self.journal.quiet()
        await self.ingestor.idle()

    async def prepare_database(self) -> None:
        """SQLite upgrades itself; PostgreSQL must be upgraded explicitly with ``threadline db upgrade``."""
        url = self.settings.threadline.database_url
        if self.store.is_sqlite:
            await upgrade(url)
            return
        try:
            current = await current_revision(url)
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            raise DatabaseUnavailable(
                f"cannot reach the database in threadline.database_url ({exc.__class__.__name__}); "
                "check that it is running and the URL is right"
            ) from exc
        if current != head_revision():
            raise SchemaOutOfDate(
                f"the database schema is at {current or 'nothing'}, the code needs {head_revision()}: "
                "run `threadline db upgrade` first"
            )

    async def sync_agents(self) -> None:
        """Create or update the agents listed under [agents] (instances starting together may race)."""
        for attempt in range(3):
            try:
                async with self.store.transaction() as uow:
                    for key, agent in self.settings.agents.items():
                        await uow.agents.upsert_agent(
                            key,
                            agent.name,
                            agent.email,
                            {str(k): v for k, v in agent.identities.items()},
                            self.clock.now(),
                        )
                return
            except Conflict:  # another instance created the same agent first: update it instead
                if attempt == 2:
                    raise

    def _spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)
        return task

    @staticmethod
    def _task_done(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task stopped", exc_info=task.exception(), extra={"task": task.get_name()})

    async def start(self) -> None:
        """Prepare the database and start every worker in the current loop."""
        await self.prepare_database()
        if isinstance(self.clock, DatabaseClock):  # before any lease, claim or due check
            await self.clock.sync()
            self._spawn("database-clock", self.clock.run())
        await refresh_statistics(self.store)  # SQLite: the planner knows the tables before any digest
        await self.sync_agents()
        self.ops.start()  # metrics recorder, mailbox outage watch
        self._spawn("outbox", self.dispatcher.run())
        await self.waker.wake_due()
        await self.sla.run()  # reminders missed while down, once (outbox rows)
        self._scheduler.start()
        await self.journal.start()  # before the webhooks: what was acknowledged earlier is processed
        if self.web.has_routes or self.settings.ops.serve:  # health, metrics and webhooks come first
            await self.web.start()
        connections = [self._spawn(f"connect-{plug.name}", self._connect(plug)) for plug in self.plugs]
        self._spawn("digest-catch-up", self._catch_up_digests(connections))
        self._spawn("mirror-repair", self._repair())
        log.info(
            "threadline started",
            extra={"surfaces": ",".join(self.surfaces), "inboxes": len(self.settings.inboxes)},
        )

    async def _connect(self, plug: Plug) -> None:
        """Connect ``plug`` in the background, retrying with backoff; one log line per change of state."""
        component, delay, failing = f"surface:{plug.name}", CONNECT_BACKOFF[0], ""
        self.ops.health.report(component, False, "connecting")
        while True:
            try:
                await plug.start(self.run_ports)
            except Exception as exc:  # a platform that cannot be reached yet must not stop the others
                reason = f"{exc.__class__.__name__}: {exc}"[:300]
                if reason != failing:
                    log.warning(
                        "surface cannot connect; retrying",
                        extra={"surface": plug.name, "reason": reason, "retry_in_seconds": delay},
                    )
                failing = reason
                self.ops.health.report(component, False, f"cannot connect, retrying in {delay:g} s: {reason}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_BACKOFF[1])
                continue
            self.ops.health.forget(component)
            if failing:
                log.warning("surface connected after retrying", extra={"surface": plug.name})
            return

    async def _catch_up_digests(self, connections: list[asyncio.Task[Any]]) -> None:
        """Post a digest missed while down, once every surface is connected."""
        await asyncio.gather(*connections)
        await self.digests.catch_up()

    async def _repair(self) -> None:
        """Check each surface's token and chat channel now (``/readyz`` shows them), then probe what
        is broken every ``[outbox] repair_probe_seconds`` and heal what works again."""
        await self.repairs.check_at_start()
        await self.repairs.run()

    async def stop(self) -> None:
        """Stop intake (503 to new webhooks), drain the journal, stop workers, close the database."""
        await self.journal.drain(self.settings.ops.shutdown_grace_seconds)
        if self._scheduler.running:
            self._scheduler.pause()  # no job takes a lease again once stop_first has released them
        await self.ops.stop_first(self._tasks)  # mailbox readers first, then in-flight deliveries
        await self.web.stop()  # no new webhook deliveries
        for plug in reversed(self.plugs):
            await plug.stop()
        if self.handover is not None:
            await self.handover.settle()  # summaries asked for before the stop are posted
        self.dispatcher.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for task in self._tasks:
            if task.get_name() != "outbox":
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.store.close()
        log.info("threadline stopped")


def stdout_printer(text: str) -> None:
    """Print a rendered thread line and flush (so piped output shows at once)."""
    print(text, file=sys.stdout, flush=True)
