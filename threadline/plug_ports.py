"""What the app gives each adapter's plug: the core's driving ports when it is built, the run ports
when it starts, and the one lifecycle every plug has (``Plug``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock import Clock
from bot.commands import CommandService
from bot.ingest.journal import Journal
from bot.ingest.service import Ingestor
from bot.ingest.statuses import DeliveryStatusService
from bot.outbox.pacing import SurfacePace
from bot.outbox.queue_views import QueueViews
from bot.ports import ChannelSender, Surface
from bot.runtime.health import Probe
from bot.runtime.leases import Worker
from storage import Store
from threadline.config import AppSettings

__all__ = ["CorePorts", "MailboxReader", "Plug", "RunPorts", "Spawn"]

Spawn = Callable[[str, Coroutine[Any, Any, Any]], object]
"""Runs a named background task for the app (stopped and awaited by ``Threadline.stop``)."""


@dataclass(frozen=True)
class CorePorts:
    """What adapters drive in the core: commands, ingest, delivery statuses, the intake journal, lookups,
    and the outbox's queue views (Slack's App Home, Discord's pinned queue message)."""

    settings: AppSettings
    store: Store
    commands: CommandService
    ingestor: Ingestor
    statuses: DeliveryStatusService
    journal: Journal
    clock: Clock
    queue_views: QueueViews


class MailboxReader(Worker, Protocol):
    """A mailbox reader (IMAP, a spool folder) that says whether it is connected and signed in."""

    def is_connected(self) -> bool:
        """True while the reader can reach its mailbox."""
        ...

    @property
    def auth_problem(self) -> str | None:
        """Why the reader cannot sign in (naming the mailbox, quoting the server), or None."""
        ...


@dataclass(frozen=True)
class RunPorts:
    """What a plug is given when it starts: the app's task runner and the operations it runs under.

    They exist only once the outbox and operations are built, which is after the plugs (the outbox
    needs the plugs' surfaces and senders), so they come at start rather than at construction.
    """

    spawn: Spawn
    under_lease: Callable[[str, MailboxReader], Worker]
    """What to run for mailbox ``name``: the reader under the lease ``mailbox:<name>`` on PostgreSQL
    (only one instance reads a mailbox), the reader itself on SQLite; operations stops it first."""


class Plug(Protocol):
    """One configured adapter as the app runs it."""

    name: str
    surface: Surface | None  # the team side it adds, if any
    sender: ChannelSender | None  # the customer side it adds, if any (under its ``channel``)
    pace: SurfacePace | None  # how fast its surface may be posted to; None: unpaced

    def routes(self) -> list[Any]:
        """Routes to mount on the shared web server (webhooks, HTTP-mode events)."""
        ...

    def ready(self) -> Probe | None:
        """Its own state for readiness (connected, connecting, or what to fix), if it keeps a connection."""
        ...

    async def start(self, ports: RunPorts) -> None:
        """Connect to the platform; long-running loops go to ``ports.spawn``."""
        ...

    async def stop(self) -> None:
        """Finish what was accepted, then disconnect."""
        ...
