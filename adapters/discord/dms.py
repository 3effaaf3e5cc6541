"""Discord DMs to the bot, the Modmail model: a user's DM is a customer message, a reply goes back as a DM.

Inbound: a MESSAGE_CREATE without ``guild_id`` (a DM; DIRECT_MESSAGES intent) from a person
becomes an ``InboundMessage`` on channel ``discord`` of the configured inbox
(``[surfaces.discord] dm_inbox``) and goes through the core's chat intake
(``bot.ingest.chat_intake``: opt-out, pleasantries, then the same ingest as email). The
sender's identity is their Discord user id; while their conversation is open every DM
continues it. Files they attach are read from Discord and stored with the message. Their
edits (MESSAGE_UPDATE) and deletions (MESSAGE_DELETE) of DMs are mirrored to the staff thread.

Outbound (``ChannelSender``): Create DM (``POST /users/@me/channels``,
https://discord.com/developers/docs/resources/user#create-dm), then Create Message in that
channel with the reply and its files, a nonce per message part (``enforce_nonce``) so a
retried delivery is not shown twice. Discord refuses users who closed their DMs or share no
server with the bot (50007): a permanent failure, shown in the staff thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Collection
from typing import Any

import discord

from adapters.discord.errors import delivery_error
from adapters.discord.text import split_text
from bot.clock import Clock
from bot.ingest.chat_intake import ChatIntake
from bot.ports import PermanentDeliveryError, SentParts
from bot.ports.inbound import InboundAttachment, InboundMessage, IngestResult
from bot.views import OutboundView

__all__ = ["CANNOT_DM", "CHANNEL", "DiscordDms", "read_attachment"]

log = logging.getLogger(__name__)

CHANNEL = "discord"
"""The customer channel name of DM conversations (``inboxes.NAME.channel``)."""
CANNOT_DM = 50007
_MAX_FILE_BYTES = 10 * 1024 * 1024  # Discord's upload limit without boosts: larger files are not kept
_NONE = discord.AllowedMentions.none()


class DiscordDms:
    """DMs in (through the chat intake) and replies out (a ``ChannelSender`` for channel ``discord``)."""

    channel = CHANNEL

    def __init__(
        self, inbox: str, intake: ChatIntake, clock: Clock, client: Callable[[], discord.Client | None]
    ) -> None:
        self.inbox = inbox
        self.intake = intake
        self.clock = clock
        self.client = client  # the surface's gateway client (None until it exists)

    async def on_dm(self, message: discord.Message) -> IngestResult | None:
        """A person's DM to the bot: handed to the core's chat intake (None when it is left out)."""
        if message.author.bot or message.guild is not None:
            return None
        files = tuple([await read_attachment(a) for a in message.attachments])
        text = message.content or ""
        if not text.strip() and not files:
            return None
        inbound = InboundMessage(
            channel=CHANNEL,
            inbox=self.inbox,
            external_id=str(message.id),
            sender_address=str(message.author.id),
            sender_name=message.author.display_name,
            received_at=self.clock.now(),
            text=text,
            subject=(text.strip().splitlines() or ["Discord message"])[0][:120] or "Discord message",
            attachments=files,
            match_open_by_contact=True,  # the DM is one channel: an open conversation is continued
            extra={"discord_user": str(message.author.id)},
        )
        return await self.intake.receive(inbound)

    async def on_edit(self, payload: discord.RawMessageUpdateEvent) -> bool:
        """The user edited a DM: mirrored to the staff thread (False when it was never taken in)."""
        if payload.message.author.bot or "content" not in payload.data:
            return False
        return await self.intake.mirror_edit(CHANNEL, str(payload.message_id), payload.message.content or "")

    async def on_delete(self, payload: discord.RawMessageDeleteEvent) -> bool:
        """The user deleted a DM: a tombstone in the staff thread (False when it was never taken in)."""
        return await self.intake.mirror_delete(CHANNEL, str(payload.message_id))

    async def send(self, message: OutboundView, parts: SentParts) -> str:
        """Send a reply as a DM to the conversation's user; the id(s) of the DM message(s). A part
        recorded in ``parts`` (sent before a restart) is not sent again."""
        client = self.client()
        if client is None or not message.to_address.isdigit():
            raise PermanentDeliveryError("no Discord user to send this DM to")
        where = f"the DM with user {message.to_address}"
        try:
            channel = await client.create_dm(discord.Object(id=int(message.to_address)))
            sent: list[str] = []
            chunks = split_text(message.text, 2000) or [""]
            for index, part in enumerate(chunks):
                if (done := parts.sent(index)) is not None:
                    sent.append(done)
                    continue
                files = _files(message) if index == len(chunks) - 1 else []
                posted = await channel.send(
                    content=part or None,
                    files=files,
                    allowed_mentions=_NONE,
                    nonce=f"{message.uid.replace('-', '')[:20]}:{index}",
                )
                sent.append(str(posted.id))
                await parts.record(index, str(posted.id))
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                raise PermanentDeliveryError(
                    "Discord does not let the bot message this user (50007): they closed DMs from server "
                    "members, blocked the bot, or share no server with it any more"
                ) from exc
            raise delivery_error(exc, where, thread=False) from exc
        except Exception as exc:
            raise delivery_error(exc, where, thread=False) from exc
        return " ".join(sent)

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept here: a DM sent is on Discord (a forgotten contact's DMs stay with the user)."""
        return 0


async def read_attachment(attachment: Any) -> InboundAttachment:
    """A file attached to a Discord message, read from Discord (one too large is named, not kept)."""
    content_type = attachment.content_type or "application/octet-stream"
    if attachment.size > _MAX_FILE_BYTES:
        return InboundAttachment(attachment.filename, content_type, attachment.size, None)
    try:
        data = await attachment.read()
    except discord.HTTPException as exc:
        log.warning("discord attachment not read", extra={"status": exc.status})
        return InboundAttachment(attachment.filename, content_type, attachment.size, None)
    return InboundAttachment(attachment.filename, content_type, len(data), data)


def _files(message: OutboundView) -> list[discord.File]:
    return [
        discord.File(io.BytesIO(a.data), filename=a.filename)
        for a in message.attachments
        if a.data is not None
    ]
