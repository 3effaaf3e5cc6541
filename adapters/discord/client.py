"""The discord.py client: intents, the app command tree, persistent card components, thread messages.

``set_api_base`` points discord.py's REST routes (``discord.http.Route.BASE``,
shared by its webhook/interaction adapter) and its gateway at the configured URLs; it
must run before ``login``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord.appcommands import register_commands
from adapters.discord.bridge import NONE, Bridge
from adapters.discord.components import dynamic_items
from adapters.discord.reactions import DiscordReactions
from adapters.discord.settings import DiscordSettings

__all__ = ["ThreadlineClient", "intents", "set_api_base"]

log = logging.getLogger(__name__)


def set_api_base(url: str, gateway: str | None = None) -> None:
    """Send every discord.py REST call (bot and interaction webhooks) to ``url`` (e.g. a proxy or a fake),
    and connect the gateway to ``gateway`` when given."""
    discord.http.Route.BASE = url.rstrip("/")
    if gateway is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def intents(dms: bool = False) -> discord.Intents:
    """Guilds, guild messages and their reactions, plus the privileged Message Content intent for
    ``!`` commands and notes; with ``dms`` also Direct Messages (DMs to the bot are customer
    messages: ``adapters.discord.dms``)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    wanted.guild_reactions = (
        True  # GUILD_MESSAGE_REACTIONS: reactions as commands (adapters/discord/reactions.py)
    )
    wanted.dm_messages = dms
    return wanted


class ThreadlineClient(discord.Client):
    """A discord.py client that carries the Threadline bridge (components find it through the interaction)."""

    def __init__(self, settings: DiscordSettings, bridge: Bridge) -> None:
        super().__init__(
            intents=intents(dms=bridge.dms is not None),
            allowed_mentions=NONE,
            max_ratelimit_timeout=settings.rate_limit_wait_seconds,
        )
        self.settings = settings
        self.bridge = bridge
        guild_only = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(self, allowed_contexts=guild_only)
        register_commands(self.tree, bridge)
        for command in self.tree.get_commands():  # and hidden in DMs for clients that read dm_permission
            command.guild_only = True
        self.rest_ready = asyncio.Event()
        self.reactions = DiscordReactions(self, bridge, bridge.commands.execute)

    async def setup_hook(self) -> None:
        """After login: listen for card components, then register the app commands."""
        self.add_dynamic_items(*dynamic_items())
        self.rest_ready.set()
        if self.settings.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the commands in each configured guild (instant), or globally when none is configured.

        With guilds configured, global commands registered by an earlier setup are removed: Discord
        would otherwise show every command twice.
        """
        try:
            if not self.settings.guild_ids:
                await self.tree.sync()
                return
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            self.tree.clear_commands(guild=None)
            await self.tree.sync()
        except discord.HTTPException as exc:
            log.error("discord command sync failed", extra={"status": exc.status, "code": exc.code})

    async def on_ready(self) -> None:
        """Connected to the gateway (again): DMs sent meanwhile are read back (``DiscordDms.catch_up``)."""
        log.info("discord connected", extra={"guilds": len(self.guilds)})
        if self.bridge.dms is not None:
            try:
                await self.bridge.dms.catch_up(self)
            except Exception:
                log.exception("discord DM catch-up failed")

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        """A reaction added anywhere the bot can see: one in a conversation thread may be a command."""
        await self._reaction(event)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        """A reaction taken off: the core ignores it unless ``[reactions] on_removal = "undo"``."""
        await self._reaction(event)

    async def _reaction(self, event: discord.RawReactionActionEvent) -> None:
        try:
            await self.reactions.on_reaction(event)
        except Exception:
            log.exception("discord reaction handling failed", extra={"message_id": event.message_id})

    async def on_message(self, message: discord.Message) -> None:
        """A message anywhere the bot can read: the bridge keeps those in inbox channels and their threads."""
        try:
            if message.guild is None and self.bridge.dms is not None:
                await self.bridge.dms.on_dm(message)
            else:
                await self.bridge.on_message(message)
        except Exception:
            log.exception("discord message handling failed", extra={"message_id": message.id})

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """MESSAGE_UPDATE: an agent's edited note or held reply changes in storage too; a customer's
        edited DM is mirrored to the staff thread."""
        try:
            if not payload.data.get("guild_id") and self.bridge.dms is not None:  # a DM: the customer's
                await self.bridge.dms.on_edit(payload)
            elif self.bridge.edits is not None:
                await self.bridge.edits.edited(payload)
        except Exception:
            log.exception("discord edit handling failed", extra={"message_id": payload.message_id})

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """MESSAGE_DELETE: a deleted note is deleted in storage, a deleted held reply undone, a
        customer's deleted DM shown as a tombstone."""
        try:
            if payload.guild_id is None and self.bridge.dms is not None:  # a DM: the customer's
                await self.bridge.dms.on_delete(payload)
            elif self.bridge.edits is not None:
                await self.bridge.edits.deleted(payload)
        except Exception:
            log.exception("discord delete handling failed", extra={"message_id": payload.message_id})
