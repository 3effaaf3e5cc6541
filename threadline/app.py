"""The composition root: builds storage, the core services, the configured adapters' plugs and the
workers, and runs them (start in dependency order, stop readers first)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.demo import SampleFeeder, WhatsAppFileSender
from adapters.email.wiring import EmailSource, build_email_sender, build_email_sources
from adapters.web import WebServer
from adapters.web.metrics import CONTENT_TYPE, PrometheusRecorder
from bot.clock import Clock, SystemClock
from bot.commands import CommandService
from bot.digest import DigestService
from bot.ingest.service import Ingestor
from bot.ingest.statuses import DeliveryStatusService
from bot.outbox.outages import OutageTracker
from bot.outbox.service import Dispatcher
from bot.ports import ChannelSender, Surface
from bot.privacy.service import Redactor
from bot.runtime.db_outage import DatabaseOutage
from bot.runtime.health import Health
from bot.runtime.leases import default_holder
from bot.sla.checker import SlaChecker
from bot.snooze import SnoozeWaker
from storage import Conflict, Store
from storage.db import DatabaseUnavailable
from storage.migrate import current_revision, head_revision, upgrade
from threadline.config import AppSettings
from threadline.operations import Operations
from threadline.plugs import CorePorts, build_plugs
from threadline.scheduler import build_scheduler

__all__ = ["SchemaOutOfDate", "Threadline"]

log = logging.getLogger(__name__)


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
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store(settings.threadline.database_url)
        notify = self._notify_outbox  # the outbox is built last; the core services only need to wake it
        self.ingestor = Ingestor(self.store, settings, self.clock, notify)
        self.commands = CommandService(self.store, settings, self.clock, notify)
        self.waker = SnoozeWaker(self.store, settings, self.clock, notify)
        self.statuses = DeliveryStatusService(self.store, settings, self.clock, notify)
        ports = CorePorts(
            settings, self.store, self.commands, self.ingestor, self.statuses, self._first_time_event
        )
        plugs = build_plugs(ports, printer)
        self.plugs = plugs.all()
        self.surfaces: dict[str, Surface] = {p.name: p.surface for p in self.plugs if p.surface is not None}
        self.channels: dict[str, ChannelSender] = self._channels()
        self.channels.update({p.name: p.sender for p in self.plugs if p.sender is not None})
        self.channels.update(extra_channels or {})
        self.local = plugs.local.local if plugs.local else None
        self.slack = plugs.slack.adapter if plugs.slack else None
        self.discord = plugs.discord.discord if plugs.discord else None
        self.whatsapp = plugs.whatsapp.channel if plugs.whatsapp else None
        ops = settings.ops
        instance = ops.instance_name or default_holder()
        health = Health(self.store)
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
            yield_to=self.ingestor.idle,
        )
        self.web = WebServer(settings.web.host, settings.web.port)  # started only when routes are mounted
        for plug in self.plugs:
            if routes := plug.routes():
                self.web.add_routes(routes)
        self._tasks: list[asyncio.Task[Any]] = []
        self.email_sources: list[EmailSource] = []
        self.sla = SlaChecker(
            self.store, settings, self.clock, notify, holder=instance, lease_seconds=ops.lease_seconds
        )
        self.digests = DigestService(self.store, settings, self.clock, self.surfaces)
        self.redactor = Redactor(self.store, self.surfaces, self.clock)  # deletes forgotten contacts' posts
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
        )
        self.web.serve_operations(self.ops.health.readiness, self.ops.metrics_text, CONTENT_TYPE)
        for plug in self.plugs:
            if (ready := plug.ready()) is not None:
                self.ops.watch_ready(f"surface:{plug.name}", ready)

    def _notify_outbox(self) -> None:
        """Wake the outbox: something was queued."""
        self.dispatcher.notify()

    def _channels(self) -> dict[str, ChannelSender]:
        channels: dict[str, ChannelSender] = {}
        email = self.settings.channels.email
        if email is not None:
            sender = build_email_sender(
                email,
                inbox_names={key: self.settings.inbox_display(key) for key in self.settings.inboxes},
                clock=self.clock,
            )
            if sender is not None:
                channels["email"] = sender
        if self.settings.demo.whatsapp_outbox_file and "whatsapp" not in channels:
            channels["whatsapp"] = WhatsAppFileSender(self.settings.demo.whatsapp_outbox_file)
        return channels

    async def _first_time_event(self, key: str) -> bool:
        """True the first time a platform event id is seen (redeliveries and retries are dropped)."""
        try:
            async with self.store.transaction() as repo:
                return await repo.first_time(key, self.clock.now())
        except Conflict:  # a concurrent redelivery recorded it first
            return False

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
                async with self.store.transaction() as repo:
                    for key, agent in self.settings.agents.items():
                        await repo.upsert_agent(
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

    def _spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    @staticmethod
    def _task_done(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task stopped", exc_info=task.exception(), extra={"task": task.get_name()})

    def _inbox_for_channel(self, channel: str) -> str | None:
        return next((name for name, inbox in self.settings.inboxes.items() if inbox.channel == channel), None)

    async def start(self) -> None:
        """Prepare the database and start every worker in the current loop."""
        await self.prepare_database()
        await self.sync_agents()
        self.ops.start()  # metrics recorder, mailbox outage watch
        self._spawn("outbox", self.dispatcher.run())
        self._spawn("redactor", self.redactor.run())
        if self.settings.demo.sample_conversations:
            inboxes = {
                ch: (name, self.settings.inbox(name).address)
                for ch in ("email", "whatsapp")
                if (name := self._inbox_for_channel(ch))
            }
            feeder = SampleFeeder(
                self.ingestor.ingest, inboxes, self.clock, self.settings.demo.interval_seconds
            )
            self._spawn("demo-feeder", feeder.run())
        self.start_email_sources()
        await self.waker.wake_due()
        await self.sla.run()  # reminders missed while down, once (outbox rows)
        self._scheduler.start()
        for plug in self.plugs:
            await plug.start(self._spawn)
        if self.web.has_routes or self.settings.ops.serve:  # some adapter mounted routes, or [ops] serve
            await self.web.start()
        await self.digests.catch_up()  # a digest missed while down, once (surfaces are up)
        log.info(
            "threadline started",
            extra={"surfaces": ",".join(self.surfaces), "inboxes": len(self.settings.inboxes)},
        )

    def start_email_sources(self) -> None:
        """One reader per configured mailbox (IMAP IDLE/polling, or a spool folder)."""
        email = self.settings.channels.email
        if email is None:
            return
        self.email_sources = build_email_sources(
            email,
            inbox_addresses={key: inbox.address for key, inbox in self.settings.inboxes.items()},
            ingest=self.ingestor.ingest,
            load_cursor=self.ingestor.load_cursor,
            save_cursor=self.ingestor.save_cursor,
            clock=self.clock,
        )
        names = list(email.mailboxes)  # each mailbox under its lease on PostgreSQL
        for number, source in enumerate(self.email_sources):
            self._spawn(f"email-source-{number}", self.ops.mailbox_runner(names[number], source).run())

    async def stop(self) -> None:
        """Stop workers, deliver nothing half-way, close the database."""
        if self._scheduler.running:
            self._scheduler.pause()  # no job takes a lease again once stop_first has released them
        await self.ops.stop_first(self._tasks, self.email_sources)  # readers first, then in-flight deliveries
        for source in self.email_sources:
            await source.stop()
        await self.web.stop()  # no new webhook deliveries
        for plug in reversed(self.plugs):  # channels finish their queued deliveries first
            await plug.stop()
        self.dispatcher.stop()
        self.redactor.stop()
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
