"""Discord DMs to the bot, the Modmail model: a user's DM is a customer message, a reply goes back as a DM.

Inbound: a MESSAGE_CREATE without ``guild_id`` (a DM; DIRECT_MESSAGES intent) from a person
is first committed to the intake journal (``bot.ingest.journal``, source ``discord_dm``, keyed
by the message id so a DM seen twice is journaled once); the journal's worker then makes it an
``InboundMessage`` on channel ``discord`` of the configured inbox (``[surfaces.discord]
dm_inbox``) and hands it to the core's chat intake (``bot.ingest.chat_intake``: opt-out,
pleasantries, then the same ingest as email, which marks the entry done in its transaction).
The gateway has no acknowledgement to hold back and no replay for a new process, so DMs sent
while Threadline was down, or received but not yet journaled when it died, are read back on
every gateway READY (``catch_up``): for each user who wrote in the last ``catch_up_days``
(``[surfaces.discord] dm_catch_up_days``), Get
Channel Messages of their DM channel after the last stored id
(``GET /channels/{id}/messages?after=``,
https://discord.com/developers/docs/resources/message#get-channel-messages), journaled the same
way. A user whose very first DM came while Threadline was down is found only when they write
again: bots cannot list their DM channels (``GET /users/@me/channels`` "will return an empty
array" for bots, https://discord.com/developers/docs/resources/user#get-user-dms). The sender's
identity is their Discord user id; while their conversation is open every DM continues it. Files
they attach are read from Discord and stored with the message. Their edits (MESSAGE_UPDATE) and
deletions (MESSAGE_DELETE) of DMs are mirrored to the staff thread.

Outbound (``ChannelSender``): Create DM (``POST /users/@me/channels``,
https://discord.com/developers/docs/resources/user#create-dm), then Create Message in that
channel with the reply and its files, a nonce per message part (``enforce_nonce``) so a
retried delivery is not shown twice. Discord refuses users who closed their DMs or share no
server with the bot (50007): a permanent failure, shown in the staff thread.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

import discord

from adapters.discord.errors import delivery_error
from adapters.discord.text import split_text
from bot.clock import Clock
from bot.ingest.chat_intake import ChatIntake
from bot.ingest.journal import BadEntry, Journal, JournalItem
from bot.ports import PermanentDeliveryError, SentParts
from bot.ports.inbound import InboundAttachment, InboundMessage
from bot.runtime import faults
from bot.views import OutboundView

__all__ = ["CANNOT_DM", "CHANNEL", "JOURNAL_SOURCE", "DiscordDms", "read_attachment"]

log = logging.getLogger(__name__)

CHANNEL = "discord"
"""The customer channel name of DM conversations (``inboxes.NAME.channel``)."""
CANNOT_DM = 50007
JOURNAL_SOURCE = "discord_dm"
"""The intake journal's source name of DMs to the bot."""
_MAX_FILE_BYTES = 10 * 1024 * 1024  # Discord's upload limit without boosts: larger files are not kept
_NONE = discord.AllowedMentions.none()


class DiscordDms:
    """DMs in (through the chat intake) and replies out (a ``ChannelSender`` for channel ``discord``)."""

    channel = CHANNEL

    def __init__(
        self,
        inbox: str,
        intake: ChatIntake,
        clock: Clock,
        journal: Journal,
        client: Callable[[], discord.Client | None],
        catch_up_days: int,
    ) -> None:
        self.inbox = inbox
        self.intake = intake
        self.clock = clock
        self.journal = journal
        self.client = client  # the surface's gateway client (None until it exists; replaced on reconnects)
        self.catch_up_days = catch_up_days  # on READY, DM channels of users who wrote this far back are read
        # the journal runs a batch's entries at once: DMs are taken in one by one, in journal order
        self._in_order = asyncio.Lock()
        journal.handle(JOURNAL_SOURCE, self._replay)

    async def on_dm(self, message: discord.Message) -> bool:
        """A person's DM to the bot: committed to the journal (True), or not one to take in (False)."""
        if message.author.bot or message.guild is not None:
            return False
        if not (message.content or "").strip() and not message.attachments:
            return False
        faults.hit("discord_dm_received")  # crash tests: received, not yet journaled
        entry = {
            "id": str(message.id),
            "channel_id": str(message.channel.id),
            "author": {"id": str(message.author.id), "name": message.author.display_name},
            "content": message.content or "",
            "attachments": [a.to_dict() for a in message.attachments],
        }
        body = json.dumps(entry).encode()
        await self.journal.record(JOURNAL_SOURCE, body, f"dm:{message.id}", order=str(message.channel.id))
        return True

    async def _replay(self, item: JournalItem) -> None:
        """A journaled DM through the chat intake (the ingest marks the entry done with the message)."""
        async with self._in_order:  # asyncio.Lock wakes its waiters first come, first served
            await self._take_in(item)

    async def _take_in(self, item: JournalItem) -> None:
        try:
            dm = json.loads(item.payload)
            user, text = str(dm["author"]["id"]), str(dm["content"])
            found = [discord.Attachment(data=a, state=self._state()) for a in dm["attachments"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadEntry(f"not a Discord DM entry ({exc.__class__.__name__})") from exc
        files = tuple([await read_attachment(a) for a in found])
        inbound = InboundMessage(
            channel=CHANNEL,
            inbox=self.inbox,
            external_id=str(dm["id"]),
            sender_address=user,
            sender_name=str(dm["author"]["name"]),
            received_at=self.clock.now(),
            text=text,
            subject=(text.strip().splitlines() or ["Discord message"])[0][:120] or "Discord message",
            attachments=files,
            match_open_by_contact=True,  # the DM is one channel: an open conversation is continued
            extra={"discord_user": user},
            journal_id=item.id,
        )
        await self.intake.receive(inbound)

    def _state(self) -> Any:
        """discord.py's connection state, which reads attachments from Discord's CDN."""
        client = self.client()
        if client is None:
            raise RuntimeError("the Discord client is not set up yet; the journal retries")
        return client._connection

    async def catch_up(self, client: discord.Client) -> int:
        """Journal the DMs users sent after the last one stored (while down, or lost in a crash);
        how many were journaled. Called on every gateway READY."""
        since = self.clock.now() - timedelta(days=self.catch_up_days)
        last: dict[int, int] = {}
        for external_id, meta in await self.intake.recent_inbound(CHANNEL, since):
            sender = str((meta or {}).get("discord_user") or "")
            if sender.isdigit() and external_id.isdigit():
                last[int(sender)] = max(last.get(int(sender), 0), int(external_id))
        taken = 0
        for user_id, after in last.items():
            try:
                channel = await client.create_dm(discord.Object(id=user_id))
                async for message in channel.history(
                    limit=None, after=discord.Object(id=after), oldest_first=True
                ):
                    taken += await self.on_dm(message)
            except discord.HTTPException as exc:
                log.warning("discord DM catch-up failed", extra={"status": exc.status, "code": exc.code})
        if taken:
            log.info("discord DMs caught up", extra={"dms": taken})
        return taken

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
