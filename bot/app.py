"""The composition root: builds storage, the core services, surfaces, channels and workers, and runs them."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.demo import SampleFeeder, WhatsAppFileSender
from adapters.email.compose import ReplyComposer
from adapters.email.folder import FolderSender
from adapters.email.smtp import SmtpSender
from adapters.local import LocalSurface
from bot.actions import CommandService
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.ingest import Ingestor
from bot.outbox import Dispatcher, SurfacePace
from bot.ports import ChannelSender, Surface
from bot.scheduler import build_scheduler
from bot.snooze import SnoozeWaker
from storage import Store
from storage.db import DatabaseUnavailable
from storage.migrate import current_revision, head_revision, upgrade

__all__ = ["SchemaOutOfDate", "Threadline"]

log = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):  # noqa: N818 - names the situation
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
        self.surfaces: dict[str, Surface] = {}
        self.local: LocalSurface | None = None
        if settings.surfaces.local is not None:
            self.local = LocalSurface(printer)
            self.surfaces["local"] = self.local
        self.channels: dict[str, ChannelSender] = self._channels()
        self.channels.update(extra_channels or {})
        self.dispatcher = Dispatcher(
            self.store, settings, self.clock, self.surfaces, self.channels, paces={"local": SurfacePace(0, 1)}
        )
        notify = self.dispatcher.notify
        self.ingestor = Ingestor(self.store, settings, self.clock, notify)
        self.commands = CommandService(self.store, settings, self.clock, notify)
        self.waker = SnoozeWaker(self.store, settings, self.clock, notify)
        if self.local is not None:
            self.local.bind(self.commands.handle)
        self._tasks: list[asyncio.Task[Any]] = []
        self._scheduler = build_scheduler(self.waker)

    def _channels(self) -> dict[str, ChannelSender]:
        channels: dict[str, ChannelSender] = {}
        email = self.settings.channels.email
        if email is not None:
            composer = ReplyComposer(
                message_id_domain=email.message_id_domain,
                from_format=email.from_format,
                inbox_names={key: self.settings.inbox_display(key) for key in self.settings.inboxes},
                clock=self.clock,
            )
            if email.smtp is not None:
                channels["email"] = SmtpSender(email.smtp, composer)
            elif email.outgoing_dir is not None:
                channels["email"] = FolderSender(email.outgoing_dir, composer, self.clock)
        if self.settings.demo.sample_conversations and "whatsapp" not in channels:
            channels["whatsapp"] = WhatsAppFileSender(self.settings.demo.whatsapp_outbox_file)
        return channels

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
        """Create or update the agents listed under [agents]."""
        async with self.store.transaction() as repo:
            for key, agent in self.settings.agents.items():
                await repo.upsert_agent(key, agent.name, agent.email, dict(agent.identities), self.clock.now())

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
        self._spawn("outbox", self.dispatcher.run())
        if self.settings.demo.sample_conversations:
            inboxes = {ch: name for ch in ("email", "whatsapp") if (name := self._inbox_for_channel(ch))}
            feeder = SampleFeeder(self.ingestor.ingest, inboxes, self.clock, self.settings.demo.interval_seconds)
            self._spawn("demo-feeder", feeder.run())
        await self.waker.wake_due()
        self._scheduler.start()
        log.info("threadline started", extra={"surfaces": ",".join(self.surfaces), "inboxes": len(self.settings.inboxes)})

    async def stop(self) -> None:
        """Stop workers, deliver nothing half-way, close the database."""
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
