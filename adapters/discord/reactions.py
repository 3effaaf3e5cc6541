"""Reactions as commands on Discord: ``MESSAGE_REACTION_ADD`` (and ``_REMOVE``) gateway events to the core.

Discord sends them with the GUILD_MESSAGE_REACTIONS intent (1 << 10, not privileged):
``user_id``, ``channel_id``, ``message_id``, ``guild_id``, ``member`` (on add only) and the partial
``emoji`` ``{id, name}`` (https://discord.com/developers/docs/events/gateway-events#message-reaction-add).
discord.py hands them over as ``RawReactionActionEvent`` whether or not the message is cached.
A reaction in a conversation's thread (on its card, which is the thread's first message, or on
any message there) becomes the core's ``Reaction`` command: a standard emoji as its character,
a custom one as ``:name:``. The core decides what it means (``[reactions]``); a refusal is told
to the member in the thread, mentioning nobody. Reactions of bots (Threadline's own ✅ under a
command included) are ignored; a removal carries no member, so the member is fetched.
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.bridge import NONE, SURFACE, Bridge
from bot.commands import Execute, Location, ParsedCommand
from bot.commands.model import Reaction
from bot.views import Reply

__all__ = ["DiscordReactions", "emoji_of"]

log = logging.getLogger(__name__)


def emoji_of(emoji: discord.PartialEmoji) -> str:
    """The emoji as the core compares it: a standard one's character, a custom one's ``:name:``."""
    return str(emoji.name) if emoji.is_unicode_emoji() else f":{emoji.name}:"


class DiscordReactions:
    """Runs reactions in conversation threads through the core."""

    def __init__(self, client: discord.Client, bridge: Bridge, execute: Execute) -> None:
        self.client = client
        self.bridge = bridge
        self.execute = execute

    async def on_reaction(self, event: discord.RawReactionActionEvent) -> Reply | None:
        """One reaction added or removed; the core's answer, or None when it was not for Threadline."""
        own = self.client.user.id if self.client.user is not None else None
        if event.guild_id is None or event.user_id == own:
            return None
        member = event.member or await self._member(event.guild_id, event.user_id)
        if member is None or member.bot:
            return None
        if await self.bridge.refusal(member, event.guild_id) is not None:
            return None  # not an agent: a reaction is no command of theirs, and needs no answer
        removed = event.event_type == "REACTION_REMOVE"
        where = Location(SURFACE, thread_id=str(event.channel_id), item_id=str(event.message_id))
        reply = await self.execute(
            self.bridge.actor(member), ParsedCommand(Reaction(emoji_of(event.emoji), removed)), where
        )
        if not reply.ok and reply.text:
            await self._tell(event, member, reply.text)
        return reply

    async def _member(self, guild_id: int, user_id: int) -> discord.Member | None:
        guild = self.client.get_guild(guild_id)
        if guild is None:
            return None
        try:
            return guild.get_member(user_id) or await guild.fetch_member(user_id)
        except discord.HTTPException as exc:
            log.warning("discord member lookup failed", extra={"status": exc.status, "code": exc.code})
            return None

    async def _tell(self, event: discord.RawReactionActionEvent, member: discord.Member, text: str) -> None:
        channel = self.client.get_channel(event.channel_id) or self.client.get_partial_messageable(
            event.channel_id
        )
        try:
            await channel.send(f"✗ {member.display_name}: {text}", allowed_mentions=NONE)  # type: ignore[union-attr]
        except discord.HTTPException as exc:
            log.warning("discord reaction answer failed", extra={"status": exc.status, "code": exc.code})
