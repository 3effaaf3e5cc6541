"""The composition root: builds storage, the core services, surfaces, channels and workers, and runs them."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.demo import SampleFeeder, WhatsAppFileSender
from adapters.discord import Bridge as DiscordBridge
from adapters.discord import DiscordSurface
from adapters.email.wiring import EmailSource, build_email_sender, build_email_sources
from adapters.local import LocalSurface
from adapters.slack import SlackAdapter
from adapters.web import WebServer
from adapters.web.metrics import CONTENT_TYPE, PrometheusRecorder
from adapters.whatsapp import WhatsAppChannel
from bot.actions import CommandService
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.digest import DigestService
from bot.ingest import Ingestor
from bot.journal import Journal
from bot.leader import default_holder
from bot.operations import Operations
from bot.outbox import Dispatcher, SurfacePace
from bot.ports import ChannelSender, Surface
from bot.privacy import Redactor
from bot.scheduler import build_scheduler
from bot.sla.checker import SlaChecker
from bot.snooze import SnoozeWaker
from bot.statuses import DeliveryStatusService
from bot.suggest import conversation_labels, label_names, template_names
from storage import Conflict, Store
from storage.db import DatabaseUnavailable
from storage.migrate import current_revision, head_revision, upgrade

__all__ = ["SchemaOutOfDate", "Threadline"]

log = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):
    """A PostgreSQL database whose schema is older than the code; run ``threadline db upgrade``."""


class Threadline:
    """One running Threadline: everything wired, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        printer: Callable[[str], None] | None = None,
        extra_channels: dict[str, ChannelSender] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store(settings.threadline.database_url)
        # inbound deliveries are journaled before they are acknowledged (bot.journal)
        self.journal = Journal(self.store, self.clock, settings.ops.instance_name or default_holder())
        self.surfaces: dict[str, Surface] = {}
        self.local: LocalSurface | None = None
        if settings.surfaces.local is not None:
            self.local = LocalSurface(printer)
            self.surfaces["local"] = self.local
        # --- slack surface: build ---------------------------------------------------
        self.slack: SlackAdapter | None = None
        if settings.surfaces.slack is not None:
            self.slack = SlackAdapter(
                settings.surfaces.slack,
                chat_channels={i.chat_channel for i in settings.inboxes.values() if i.surface == "slack"},
                prefix=settings.threadline.command_prefix,
            )
            self.surfaces["slack"] = self.slack.surface
        # --- slack surface: end -----------------------------------------------------
        self.channels: dict[str, ChannelSender] = self._channels()
        self.channels.update(extra_channels or {})
        self.dispatcher = Dispatcher(
            self.store, settings, self.clock, self.surfaces, self.channels, paces={"local": SurfacePace(0, 1)}
        )
        notify = self.dispatcher.notify
        self.ingestor = Ingestor(self.store, settings, self.clock, notify)
        self.dispatcher.yield_to = self._yield_to_intake
        self.commands = CommandService(self.store, settings, self.clock, notify)
        self.waker = SnoozeWaker(self.store, settings, self.clock, notify)
        if self.local is not None:
            self.local.bind(self.commands.handle)
        # --- slack surface: bind and pace -------------------------------------------
        if self.slack is not None:
            slack = settings.surfaces.slack
            assert slack is not None
            pace = SurfacePace(slack.pace_per_second, slack.pace_burst)
            self.dispatcher.paces = {**self.dispatcher.paces, "slack": pace}
            self.slack.bind(
                self.commands.handle,
                self.journal,
                functools.partial(label_names, self.store, "", 100),
                self.commands.register,
            )
        # --- slack surface: end -----------------------------------------------------
        # --- discord surface: build, bind and pace --------------------------------------
        self.discord: DiscordSurface | None = None
        if (discord_settings := settings.surfaces.discord) is not None:
            bridge = DiscordBridge(
                discord_settings,
                self.commands,
                prefix=settings.threadline.command_prefix,
                chat_channels=[i.chat_channel for i in settings.inboxes.values() if i.surface == "discord"],
                labels=functools.partial(label_names, self.store),
                labels_of=functools.partial(conversation_labels, self.store, "discord"),
                templates=functools.partial(template_names, self.store, settings),
            )
            self.discord = DiscordSurface(discord_settings, bridge)
            self.surfaces["discord"] = self.discord
            pace = SurfacePace(
                discord_settings.pace_messages / discord_settings.pace_seconds, discord_settings.pace_messages
            )
            self.dispatcher.paces = {**self.dispatcher.paces, "discord": pace}
        # --- discord surface: end ---------------------------------------------------------
        # --- shared web server + whatsapp channel: build ------------------------------
        self.web = WebServer(settings.web.host, settings.web.port)  # started only when routes are mounted
        self.statuses = DeliveryStatusService(self.store, settings, self.clock, notify)
        self.whatsapp: WhatsAppChannel | None = None
        if (whatsapp := settings.channels.whatsapp) is not None:
            self.whatsapp = WhatsAppChannel(
                whatsapp, self.journal, self.ingestor.ingest, self.statuses.apply, self.ingestor.is_stored
            )
            self.web.add_routes(self.whatsapp.routes())
            if "whatsapp" not in (extra_channels or {}):
                self.channels["whatsapp"] = self.whatsapp.sender  # replaces the demo file sender
        # --- shared web server + whatsapp channel: end --------------------------------
        # --- slack surface: HTTP mode mounts its route on the shared web server --------
        if self.slack is not None and self.slack.settings.mode == "http":
            self.web.add_routes(self.slack.aiohttp_routes())
        # --- slack surface: end -----------------------------------------------------
        self._tasks: list[asyncio.Task[Any]] = []
        self.email_sources: list[EmailSource] = []
        # --- sla and digests: build -------------------------------------------------
        self.sla = SlaChecker(self.store, settings, self.clock, notify)
        self.digests = DigestService(self.store, settings, self.clock, self.surfaces)
        self._scheduler = build_scheduler(self.waker, sla=self.sla, digests=self.digests)
        # --- sla and digests: end ---------------------------------------------------
        # --- automation and teamwork: deletes forgotten contacts' thread messages ------
        self.redactor = Redactor(self.store, self.surfaces, self.clock)
        # --- automation and teamwork: end -------------------------------------------
        # --- reliability and scale: health, metrics, leases, outage notices ----------
        recorder = PrometheusRecorder() if settings.ops.metrics else None
        self.ops = Operations(self.store, settings, self.clock, self.dispatcher, recorder=recorder)
        self.ops.adopt_jobs(self.sla, self._scheduler, self.waker.wake_due)
        self.web.serve_operations(self.ops.health.readiness, self.ops.metrics_text, CONTENT_TYPE)
        if self.discord is not None:
            self.ops.watch_ready("surface:discord", self.discord.client.is_ready)
        # --- reliability and scale: end ---------------------------------------------

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
            inboxes = {ch: name for ch in ("email", "whatsapp") if (name := self._inbox_for_channel(ch))}
            feeder = SampleFeeder(
                self.ingestor.ingest, inboxes, self.clock, self.settings.demo.interval_seconds
            )
            self._spawn("demo-feeder", feeder.run())
        self.start_email_sources()
        await self.waker.wake_due()
        # --- sla and digests: reminders missed while down, once (outbox rows) -------
        await self.sla.run()
        # --- sla and digests: end ---------------------------------------------------
        self._scheduler.start()
        if self.slack is not None:
            await self.slack.start()
        if self.discord is not None:  # login + gateway, reconnecting
            self._spawn("discord", self.discord.run())
        await self.journal.start()
        if self.whatsapp is not None:
            await self.whatsapp.start()
        if self.web.has_routes or self.settings.ops.serve:  # some adapter mounted routes; 9: [ops]
            await self.web.start()
        # --- sla and digests: a digest missed while down, once (surfaces are up) -----
        await self.digests.catch_up()
        # --- sla and digests: end ---------------------------------------------------
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
        """Stop intake (503 to new webhooks), drain the journal, stop workers, close the database."""
        await self.journal.drain(self.settings.ops.shutdown_grace_seconds)
        # --- reliability and scale: readers first, then finish in-flight deliveries --
        await self.ops.stop_first(self._tasks, self.email_sources)
        # --- reliability and scale: end ---------------------------------------------
        for source in self.email_sources:
            await source.stop()
        await self.web.stop()  # no new webhook deliveries
        if self.whatsapp is not None:
            await self.whatsapp.stop()
        if self.slack is not None:
            await self.slack.stop()
        if self.discord is not None:
            await self.discord.close()
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
