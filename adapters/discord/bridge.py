"""Event plumbing from Discord to the core: who may act, the command line to run, and the answer.

Every app command, card component and thread message ends in ``Bridge``: it checks
the guild and the agent role, hands the core the command (``CommandPort.execute`` with a
typed command built from the interaction's options, or ``handle`` with grammar text for a
thread message or a command that takes a line) and answers ephemerally (deferring when
the core takes longer than ``defer_after_seconds``; Discord allows 3 s before the first
response).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord

from adapters.discord.dms import DiscordDms, read_attachment
from adapters.discord.edits import DiscordEdits
from adapters.discord.render import CONTENT_LIMIT
from adapters.discord.settings import DiscordSettings
from adapters.discord.text import split_text
from bot.commands import Actor, CommandError, CommandPort, Location, ParsedCommand
from bot.commands.model import Command
from bot.views import Reply

__all__ = ["NONE", "SURFACE", "Bridge", "LabelSource", "built"]

log = logging.getLogger(__name__)

SURFACE = "discord"
NONE = discord.AllowedMentions.none()
"""Every message Threadline sends uses this: customer text (or anything else) can never ping anyone."""

LabelSource = Callable[[str], Awaitable[list[str]]]
"""``await labels(prefix)`` → existing label names; ``await labels_of(thread_id)`` → that thread's;
``await templates(prefix)`` → canned reply and WhatsApp template names."""

_CHATTY = {"help", "?", "list", "ls", "labels", "history"}


def built(build: Callable[[], Command]) -> Command | CommandError:
    """The command ``build`` makes of an interaction's options or picks (with the core's command
    builders), or their refusal; ``Bridge.answer`` answers either."""
    try:
        return build()
    except CommandError as exc:
        return exc


class Bridge:
    """Turns Discord interactions and messages into core commands and shows the core's replies."""

    def __init__(
        self,
        settings: DiscordSettings,
        commands: CommandPort,
        *,
        prefix: str,
        chat_channels: Iterable[str],
        labels: LabelSource,
        labels_of: LabelSource,
        templates: LabelSource | None = None,
        edits: DiscordEdits | None = None,
        dms: DiscordDms | None = None,
    ) -> None:
        self.settings = settings
        self.commands = commands
        self.prefix = prefix
        self.chat_channels = {int(c) for c in chat_channels if c.isdigit()}
        self.labels = labels
        self.labels_of = labels_of
        self.templates = templates
        self.edits = edits  # members' edits and deletions of thread messages (adapters.discord.edits)
        self.dms = dms  # DMs to the bot as customer messages (adapters.discord.dms), when configured
        self._role_ids: dict[int, int | None] = {}

    # --- who may act -------------------------------------------------------------------------

    async def refusal(self, user: discord.abc.User, guild_id: int | None) -> str | None:
        """Why ``user`` may not act here, or None when they may."""
        if guild_id is None or not isinstance(user, discord.Member):
            return "Threadline works inside the team's server, in an inbox channel's threads."
        if self.settings.guild_ids and guild_id not in self.settings.guild_ids:
            return "This server is not one Threadline serves (surfaces.discord.guild_ids)."
        role = self.settings.agent_role
        if role is None:
            return None
        member_roles = {r.id for r in user.roles} | {int(r) for r in getattr(user, "_roles", ())}
        wanted = int(role) if role.isdigit() else await self._role_by_name(user.guild, role)
        if wanted is not None and wanted in member_roles:
            return None
        name = "the configured agent" if role.isdigit() else f"the {role}"
        return f"Only members with {name} role can work conversations."

    async def _role_by_name(self, guild: discord.Guild, name: str) -> int | None:
        if self._role_ids.get(guild.id) is None:  # a role created or renamed later is found on the next try
            roles = list(guild.roles) or await guild.fetch_roles()
            self._role_ids[guild.id] = next((r.id for r in roles if r.name == name), None)
        return self._role_ids[guild.id]

    @staticmethod
    def actor(user: discord.abc.User) -> Actor:
        """The core's view of a Discord member."""
        return Actor(SURFACE, str(user.id), user.display_name)

    # --- interactions --------------------------------------------------------------------------

    async def answer(
        self,
        interaction: discord.Interaction[Any],
        command: Command | CommandError,
        *,
        number: int | None = None,
    ) -> Reply:
        """Run the typed ``command`` for the interaction's user in the interaction's thread; answer
        ephemerally. A ``CommandError`` (options the core's command builders refused) is answered
        as the refusal, once the user is known to be one who may act, as a typed line would be."""
        refusal = await self.refusal(interaction.user, interaction.guild_id)
        if refusal is not None:
            await self.say(interaction, refusal)
            return Reply(refusal, ok=False)
        if isinstance(command, CommandError):
            await self.say(interaction, str(command), ok=False)
            return Reply(str(command), ok=False)
        await self._unarchive(interaction)
        where = Location(SURFACE, thread_id=str(interaction.channel_id), number=number)
        actor = self.actor(interaction.user)
        task = asyncio.create_task(self.commands.execute(actor, ParsedCommand(command), where))
        done, _ = await asyncio.wait({task}, timeout=self.settings.defer_after_seconds)
        deferred = False
        if not done:
            try:
                await interaction.response.defer(ephemeral=True, thinking=True)
                deferred = True
            except discord.HTTPException as exc:  # the command still runs; only the answer is lost
                log.warning("discord defer failed", extra={"interaction": interaction.id, "code": exc.code})
        try:
            reply = await task
        except Exception:
            log.exception("discord command failed", extra={"interaction": interaction.id})
            reply = Reply("Something went wrong; the error is in Threadline's log.", ok=False)
        text = reply.text or "Done."
        if reply.needs_confirmation:  # the core words it in the text grammar; say the Discord way too
            text += "\nHere: run `/reply` again with `confirm: True`."
        await self.say(interaction, text, ok=reply.ok, deferred=deferred)
        return reply

    @staticmethod
    async def _unarchive(interaction: discord.Interaction[Any]) -> None:
        """A card's button used in an archived thread: Discord refuses answers there, so unarchive first."""
        channel = interaction.channel
        if not isinstance(channel, discord.Thread) or not channel.archived:
            return
        try:
            await interaction.client.http.edit_channel(channel.id, archived=False)
        except discord.HTTPException as exc:  # a locked thread: the command runs, the answer may be lost
            log.warning("discord thread unarchive failed", extra={"thread_id": channel.id, "code": exc.code})

    async def say(
        self, interaction: discord.Interaction[Any], text: str, *, ok: bool = True, deferred: bool = False
    ) -> None:
        """Answer ephemerally: the first response, or (``deferred``) the "thinking…" response edited
        into the answer; what does not fit follows as follow-ups."""
        chunks = split_text(("" if ok else "✗ ") + text, CONTENT_LIMIT)
        try:
            if not interaction.response.is_done():
                await interaction.response.send_message(chunks[0], ephemeral=True, allowed_mentions=NONE)
                chunks = chunks[1:]
            elif deferred:
                await interaction.edit_original_response(content=chunks[0], allowed_mentions=NONE)
                chunks = chunks[1:]
            for chunk in chunks:
                await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning(
                "discord answer failed",
                extra={"interaction": interaction.id, "status": exc.status, "code": exc.code},
            )

    # --- messages ------------------------------------------------------------------------------

    def _thread_of(self, channel: Any) -> tuple[bool, bool]:
        """(is a thread, is watched): threads of an inbox channel, or an inbox channel itself."""
        if isinstance(channel, discord.Thread):
            return True, channel.parent_id in self.chat_channels
        if isinstance(channel, discord.PartialMessageable):  # not cached: maybe a thread; the core decides
            return channel.id not in self.chat_channels, True
        return False, getattr(channel, "id", None) in self.chat_channels

    async def on_message(self, message: discord.Message) -> Reply | None:
        """A message in an inbox channel or its threads: a ``!`` command, or (in a thread) a note."""
        if message.author.bot or message.webhook_id is not None or message.guild is None:
            return None
        in_thread, watched = self._thread_of(message.channel)
        text = message.content or ""
        prefixed = self.is_command(text)
        if not watched or not text.strip() or (not in_thread and not prefixed):
            return None
        refusal = await self.refusal(message.author, message.guild.id)
        if refusal is not None:
            if prefixed:
                await self._reply(message, "✗ " + refusal)
            return None
        thread_id = str(message.channel.id) if in_thread else None
        where = Location(
            SURFACE, thread_id=thread_id, typed_in_thread=thread_id is not None, message_ref=str(message.id)
        )
        actor = self.actor(message.author)
        verb = text.strip()[len(self.prefix) :].split(" ", 1)[0].lower() if prefixed else ""
        if verb == "reply" and message.attachments:  # files go to the customer with the reply
            files = tuple([await read_attachment(a) for a in message.attachments])
            reply = await self.commands.handle(actor, text, where, prefixed=True, files=files)
        else:
            reply = await self.commands.handle(actor, text, where, prefixed=True)
        await self._show(message, reply, prefixed, text)
        return reply

    def is_command(self, text: str) -> bool:
        """A ``!command`` (the prefix directly followed by a word), as the core's grammar reads it."""
        stripped = text.lstrip()
        rest = stripped[len(self.prefix) :]
        return stripped.startswith(self.prefix) and bool(rest) and not rest[0].isspace()

    async def _show(self, message: discord.Message, reply: Reply, prefixed: bool, text: str) -> None:
        if not prefixed:
            if reply.ok and reply.text:
                await self._react(message, "📝")
            return  # plain chatter outside a conversation stays unanswered
        word = text.strip()[len(self.prefix) :].split(" ", 1)[0].lower()
        if reply.ok and word not in _CHATTY:
            await self._react(message, "✅")
        elif reply.text:
            await self._reply(message, reply.text if reply.ok else "✗ " + reply.text)

    async def _react(self, message: discord.Message, emoji: str) -> None:
        try:
            await message.add_reaction(emoji)
        except discord.HTTPException as exc:
            log.warning("discord reaction failed", extra={"status": exc.status, "code": exc.code})

    async def _reply(self, message: discord.Message, text: str) -> None:
        try:
            for chunk in split_text(text, CONTENT_LIMIT):
                await message.reply(chunk, allowed_mentions=NONE, mention_author=False)
        except discord.HTTPException as exc:
            log.warning("discord reply failed", extra={"status": exc.status, "code": exc.code})
