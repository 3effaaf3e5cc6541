"""Each configured platform adapter plugged into the running app, all with one lifecycle.

A plug is built from its settings section and the core's driving ports (``CorePorts``).
The app builder loops over the plugs: it collects their surfaces, customer senders,
paces and web routes for the core, starts them after the core's workers and stops them
before the outbox. The demo is a plug too (sample conversations in, WhatsApp replies to a
file). Email is a plug too (``threadline.email_plug``); its mailbox readers run under the leases
operations hands out when the plugs start (``RunPorts``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.demo import SampleFeeder, WhatsAppFileSender
from adapters.discord import Bridge as DiscordBridge
from adapters.discord import DiscordSurface
from adapters.discord.dms import DiscordDms
from adapters.discord.edits import DiscordEdits
from adapters.discord.queue_board import QueueBoard
from adapters.discord.settings import DiscordSettings
from adapters.local import LocalSurface, Palette, ShownRecord, colour_wanted
from adapters.slack import SlackAdapter
from adapters.slack.dms import SlackDms
from adapters.slack.intake import SlackIntake
from adapters.slack.settings import SlackSettings
from adapters.whatsapp import WhatsAppChannel
from adapters.whatsapp.settings import WhatsAppSettings
from bot.commands.suggest import conversation_labels, label_names, template_names
from bot.ingest.chat_intake import ChatIntake
from bot.outbox.pacing import SurfacePace
from bot.ports import ChannelSender, Surface
from bot.ports.progress import ProgressCallback
from bot.runtime.health import Probe
from bot.settings.core import DemoSettings, LocalSurfaceSettings
from threadline.email_plug import EmailPlug
from threadline.plug_ports import CorePorts, Plug, RunPorts

__all__ = ["DemoPlug", "DiscordPlug", "LocalPlug", "Plugs", "SlackPlug", "WhatsAppPlug", "build_plugs"]


class LocalPlug:
    """The terminal surface: no platform, no pace limit."""

    name = "local"
    sender: ChannelSender | None = None

    def __init__(
        self, ports: CorePorts, settings: LocalSurfaceSettings, printer: Callable[[str], None] | None
    ) -> None:
        inboxes = ports.settings.inboxes.values()
        zone = settings.timezone or next((inbox.timezone for inbox in inboxes), "UTC")
        self.local = LocalSurface(
            printer,
            zone=ZoneInfo(zone),
            palette=Palette(printer is not None and colour_wanted(settings.color, sys.stdout)),
            files=Path(settings.files_dir) if settings.files_dir else None,
            commands=ports.commands,
            shown=ShownRecord(Path(settings.shown_record)) if settings.shown_record else None,
        )
        self.surface: Surface | None = self.local
        self.pace: SurfacePace | None = SurfacePace(0, 1)

    def routes(self) -> list[Any]:
        """None: the terminal needs no web route."""
        return []

    def ready(self) -> Probe | None:
        """None: always there."""
        return None

    async def start(self, ports: RunPorts) -> None:
        """Nothing to connect; the CLI reads the terminal."""

    async def stop(self) -> None:
        """Close the record of what was shown (nothing to disconnect)."""
        if self.local.shown is not None:
            self.local.shown.close()


class SlackPlug:
    """The Slack surface: Socket Mode or HTTP events in, the Web API out."""

    name = "slack"

    def __init__(self, ports: CorePorts, settings: SlackSettings) -> None:
        inboxes = ports.settings.inboxes.values()
        intake = dms = None
        if settings.intake_channels or settings.dm_inbox:  # customers write here: a customer channel too
            clock = ports.ingestor.clock
            chat = ChatIntake(ports.store, ports.settings, ports.ingestor, clock)
            intake = SlackIntake(lambda: self.adapter.surface, settings.intake_channels, chat, clock)
            dms = SlackDms(settings.dm_inbox, chat, clock) if settings.dm_inbox else None
        self.adapter = SlackAdapter(
            settings,
            commands=ports.commands,
            journal=ports.journal,
            labels=functools.partial(label_names, ports.store, "", 100),
            register=ports.commands.register,
            queue=ports.commands.queue,
            show_queue=ports.queue_views.show,
            edits=ports.commands.edits,
            chat_channels={i.chat_channel for i in inboxes if i.surface == "slack"},
            prefix=ports.settings.threadline.command_prefix,
            intake=intake,
            dms=dms,
        )
        self.sender: ChannelSender | None = intake  # replies into intake threads and DMs
        self.surface: Surface | None = self.adapter.surface
        self.pace: SurfacePace | None = SurfacePace(settings.pace_per_second, settings.pace_burst)

    def routes(self) -> list[Any]:
        """HTTP mode mounts its events route on the shared web server."""
        return list(self.adapter.aiohttp_routes()) if self.adapter.settings.mode == "http" else []

    def ready(self) -> Probe | None:
        """Whether Slack accepts the bot (a refused token or missing scope shows until a call succeeds)."""
        return self.adapter.surface.auth.probe

    async def start(self, ports: RunPorts) -> None:
        """Open the Socket Mode connection (HTTP mode waits for the web server)."""
        await self.adapter.start()

    async def stop(self) -> None:
        """Close the connection."""
        await self.adapter.stop()


class DiscordPlug:
    """The Discord surface: the gateway in, the REST API out."""

    name = "discord"

    def __init__(self, ports: CorePorts, settings: DiscordSettings) -> None:
        core = ports.settings
        dms = None
        if settings.dm_inbox:  # DMs to the bot open conversations (the Modmail model)
            intake = ChatIntake(ports.store, core, ports.ingestor, ports.ingestor.clock)
            dms = DiscordDms(
                settings.dm_inbox,
                intake,
                ports.ingestor.clock,
                ports.journal,
                lambda: self.discord.client,
                settings.dm_catch_up_days,
            )
        bridge = DiscordBridge(
            settings,
            ports.commands,
            prefix=core.threadline.command_prefix,
            chat_channels=[i.chat_channel for i in core.inboxes.values() if i.surface == "discord"],
            labels=functools.partial(label_names, ports.store),
            labels_of=functools.partial(conversation_labels, ports.store, "discord"),
            templates=functools.partial(template_names, ports.store, core),
            edits=DiscordEdits(ports.commands.edits, settings.guild_ids),
            dms=dms,
        )
        self.discord = DiscordSurface(settings, bridge)
        channels = [i.chat_channel for i in core.inboxes.values() if i.surface == "discord"]
        self.board = QueueBoard(ports.commands.team_queue, ports.queue_views.show, channels)
        self.sender: ChannelSender | None = dms
        self.surface: Surface | None = self.discord
        self.pace: SurfacePace | None = SurfacePace(
            settings.pace_messages / settings.pace_seconds, settings.pace_messages
        )

    def routes(self) -> list[Any]:
        """None: Discord speaks through its gateway."""
        return []

    def ready(self) -> Probe | None:
        """The gateway connection's state, or what must be fixed first (e.g. a refused token)."""
        return self.discord.state

    async def start(self, ports: RunPorts) -> None:
        """Log in and keep the gateway connected, reconnecting."""
        ports.spawn("discord", self.discord.run())
        if self.discord.settings.queue_message:
            ports.spawn("discord-queue", self.board.run())

    async def stop(self) -> None:
        """Close the gateway connection."""
        await self.discord.close()


class WhatsAppPlug:
    """The WhatsApp channel: Cloud API webhooks in, the Graph API out."""

    name = "whatsapp"
    surface: Surface | None = None
    pace: SurfacePace | None = None

    def __init__(self, ports: CorePorts, settings: WhatsAppSettings) -> None:
        self.channel = WhatsAppChannel(
            settings, ports.journal, ports.ingestor.ingest, ports.statuses.apply, ports.ingestor.is_stored
        )
        self.sender: ChannelSender | None = self.channel.sender

    def routes(self) -> list[Any]:
        """The webhook route."""
        return list(self.channel.routes())

    def ready(self) -> Probe | None:
        """None: webhooks arrive when Meta sends them."""
        return None

    async def start(self, ports: RunPorts) -> None:
        """Start retrying receipts that came before their send was recorded (the journal works webhooks)."""
        await self.channel.start()

    async def stop(self) -> None:
        """Stop retrying receipts, close the HTTP session (the journal was drained before)."""
        await self.channel.stop()


class DemoPlug:
    """The demo: sample customer conversations fed in, and WhatsApp replies written to a file
    when no real WhatsApp is configured."""

    name = "demo"
    surface: Surface | None = None
    pace: SurfacePace | None = None

    def __init__(self, ports: CorePorts, settings: DemoSettings) -> None:
        core = ports.settings
        self.ports = ports
        self.settings = settings
        path = settings.whatsapp_outbox_file if core.channels.whatsapp is None else None
        self.sender: ChannelSender | None = WhatsAppFileSender(path) if path else None

    def routes(self) -> list[Any]:
        """None: the demo needs no web route."""
        return []

    def ready(self) -> Probe | None:
        """None: nothing to connect to."""
        return None

    async def start(self, ports: RunPorts) -> None:
        """Feed the sample conversations to the first inbox of each of their channels, when asked for."""
        if not self.settings.sample_conversations:
            return
        inboxes: dict[str, tuple[str, str]] = {}
        for name, inbox in self.ports.settings.inboxes.items():
            if inbox.channel in ("email", "whatsapp"):
                inboxes.setdefault(inbox.channel, (name, inbox.address))
        feeder = SampleFeeder(
            self.ports.ingestor.ingest, inboxes, self.ports.clock, self.settings.interval_seconds
        )
        ports.spawn("demo-feeder", feeder.run())

    async def stop(self) -> None:
        """Nothing to disconnect (the feeder task is stopped with the app's tasks)."""


@dataclass(frozen=True)
class Plugs:
    """The plugs of the configured adapters, by platform."""

    local: LocalPlug | None
    slack: SlackPlug | None
    discord: DiscordPlug | None
    whatsapp: WhatsAppPlug | None
    email: EmailPlug | None
    demo: DemoPlug | None

    def all(self) -> list[Plug]:
        """Every configured plug, in start order."""
        plugs = (self.local, self.slack, self.discord, self.whatsapp, self.email, self.demo)
        return [p for p in plugs if p is not None]


def build_plugs(
    ports: CorePorts,
    printer: Callable[[str], None] | None,
    progress: Callable[[str], ProgressCallback] | None,
) -> Plugs:
    """A plug for every adapter that has a settings section; ``printer`` shows the terminal surface,
    ``progress(label)`` a progress line of long work (a mailbox's backlog read)."""
    settings = ports.settings
    surfaces, channels = settings.surfaces, settings.channels
    return Plugs(
        local=LocalPlug(ports, surfaces.local, printer) if surfaces.local is not None else None,
        slack=SlackPlug(ports, surfaces.slack) if surfaces.slack is not None else None,
        discord=DiscordPlug(ports, surfaces.discord) if surfaces.discord is not None else None,
        whatsapp=WhatsAppPlug(ports, channels.whatsapp) if channels.whatsapp is not None else None,
        email=EmailPlug(ports, channels.email, progress) if channels.email is not None else None,
        demo=DemoPlug(ports, settings.demo)
        if settings.demo.sample_conversations or settings.demo.whatsapp_outbox_file
        else None,
    )
