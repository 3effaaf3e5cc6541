"""Agents editing or deleting their messages in a Discord thread: handed to the core's ``AgentEdits``.

Discord sends an edit as the gateway event MESSAGE_UPDATE, the message as it is now (with
``edited_timestamp``; ``content`` only with the Message Content intent), and a deletion as
MESSAGE_DELETE with only ``id``, ``channel_id`` and ``guild_id``
(https://discord.com/developers/docs/topics/gateway-events#message-update,
https://discord.com/developers/docs/topics/gateway-events#message-delete). discord.py hands
them over as ``on_raw_message_edit`` / ``on_raw_message_delete`` whether or not the message is
cached. The core finds the note or held reply by the message id (snowflakes are unique across
Discord) and applies the change; an edit by anyone but the message's author changes nothing.
"""

from __future__ import annotations

import logging

import discord

from bot.commands import Actor
from bot.commands.edits import AgentEdits

__all__ = ["DiscordEdits"]

log = logging.getLogger(__name__)
SURFACE = "discord"


class DiscordEdits:
    """Applies MESSAGE_UPDATE and MESSAGE_DELETE of members' guild messages to what Threadline stored."""

    def __init__(self, edits: AgentEdits, guild_ids: tuple[int, ...] | list[int] = ()) -> None:
        self.edits = edits
        self.guild_ids = set(guild_ids)

    def _served(self, guild_id: int | None) -> bool:
        return guild_id is not None and (not self.guild_ids or guild_id in self.guild_ids)

    async def edited(self, payload: discord.RawMessageUpdateEvent) -> str:
        """A message was edited; returns what changed in storage ("ignored" when nothing did)."""
        message = payload.message
        guild = payload.guild_id or int(payload.data.get("guild_id") or 0) or None  # guild not cached yet
        if not self._served(guild) or message.author.bot or "content" not in payload.data:
            return "ignored"
        actor = Actor(SURFACE, str(message.author.id), message.author.display_name)
        return await self.edits.edited(actor, str(payload.message_id), message.content or "")

    async def deleted(self, payload: discord.RawMessageDeleteEvent) -> str:
        """A message was deleted (by its author or a moderator); returns what changed in storage."""
        if not self._served(payload.guild_id):
            return "ignored"
        return await self.edits.deleted(SURFACE, str(payload.message_id))
