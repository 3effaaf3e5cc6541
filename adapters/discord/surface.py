"""The Discord surface: conversations as public threads (text channels) or posts (forum channels).

Implements ``bot.ports.Surface`` for the outbox dispatcher. The chat channel's type is
read from Discord (and cached): a text channel gets a public thread with the card as
its first message; a forum channel gets one post per conversation whose starter
message is the card, with labels also shown as the forum's matching tags (at most 5
per post; the database stays the source of truth). Archived threads are unarchived
when something must be posted or edited there.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import discord

from adapters.discord.adopt import adopt_thread
from adapters.discord.bridge import NONE, Bridge
from adapters.discord.client import ThreadlineClient, set_api_base
from adapters.discord.components import card_controls, undo_controls
from adapters.discord.digest import digest_embed
from adapters.discord.errors import (
    ACTIVE_THREADS_FULL,
    ARCHIVED_THREAD,
    INTENT_MISSING,
    THREADS_FULL_NOTICE,
    TOKEN_REFUSED,
    delivery_error,
)
from adapters.discord.probe import probe_scope
from adapters.discord.queue_board import PinnedQueue
from adapters.discord.render import (
    OutgoingMessage,
    card_embed,
    forum_tags,
    part_files,
    part_nonce,
    post_messages,
    thread_name,
)
from adapters.discord.settings import DiscordSettings
from bot.ports import DeliveryError, PermanentDeliveryError, ThreadRef, TransientDeliveryError, join_ids
from bot.runtime.health import ComponentState
from bot.views import CardView, DigestView, PostView

__all__ = ["DiscordSurface"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Chat = discord.TextChannel | discord.ForumChannel
_CHANNEL_TTL = 300.0
_ARCHIVE_AFTER_MINUTES: Literal[10080] = 10080
_RANGE = ".."


class DiscordSurface:
    """The team side on Discord; ``run()`` connects, the outbox calls the ``Surface`` methods."""

    name = "discord"

    def __init__(self, settings: DiscordSettings, bridge: Bridge, *, ready_timeout: float = 15.0) -> None:
        self.settings = settings
        self.bridge = bridge
        self.client = ThreadlineClient(settings, bridge)
        self.ready_timeout = ready_timeout
        self._channels: dict[str, tuple[float, Chat]] = {}
        self._closing = False
        self.fault: str | None = None
        """Why the surface cannot work until someone fixes it (a refused token, a missing intent)."""
        self._threads_full: set[str] = set()
        self._names: dict[str, str] = {}
        """Thread id → its name as last set or read, so that a changed card renames it (forget)."""
        self.pinned = PinnedQueue(lambda: self.client)

    # --- lifecycle ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Log in and stay connected to the gateway until ``close()``.

        discord.py reconnects dropped sessions itself; a failure to connect at all (network
        down at start) is retried here with backoff. A refused token or a missing privileged
        intent stops the surface with a log line saying what to fix.
        """
        set_api_base(self.settings.api_base_url, self.settings.gateway_url)
        delay = 5.0
        while not self._closing:
            try:
                await self.client.start(self.settings.bot_token, reconnect=True)
                return
            except discord.LoginFailure:
                self._broken(TOKEN_REFUSED)
                return
            except discord.PrivilegedIntentsRequired:
                self._broken(INTENT_MISSING)
                return
            except Exception as exc:
                if self._closing:
                    return
                log.warning(
                    "discord connection failed; retrying",
                    extra={"error": exc.__class__.__name__, "retry_in": delay},
                )
                await self.client.close()
                self.client = ThreadlineClient(self.settings, self.bridge)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)

    def state(self) -> ComponentState:
        """For readiness: connected, connecting, or what must be fixed first."""
        if self.fault is not None:
            return ComponentState(False, self.fault)
        ready = self.client.is_ready()
        return ComponentState(ready, "up" if ready else "connecting")

    def _broken(self, fault: str) -> None:
        """Something only a person can fix: say it once (log and readiness) and stop trying."""
        if self.fault != fault:
            log.error("discord surface stopped", extra={"reason": fault})
        self.fault = fault

    def _error(self, exc: BaseException, where: str, *, thread: bool = True) -> DeliveryError:
        """The delivery error for ``exc``; a refused token also stops the surface's readiness."""
        error = delivery_error(exc, where, thread=thread)
        if error.reason == TOKEN_REFUSED:
            self._broken(TOKEN_REFUSED)
        return error

    async def login(self) -> None:
        """Log in for REST only (no gateway): tests and tools."""
        set_api_base(self.settings.api_base_url)
        await self.client.login(self.settings.bot_token)

    async def close(self) -> None:
        """Disconnect and close the HTTP session."""
        self._closing = True
        await self.client.close()

    async def _ready(self) -> None:
        if self.client.rest_ready.is_set():
            return
        try:
            await asyncio.wait_for(self.client.rest_ready.wait(), self.ready_timeout)
        except TimeoutError:
            raise TransientDeliveryError("Discord is not connected yet") from None

    # --- Surface ------------------------------------------------------------------------------

    async def probe(self, scope: str) -> None:
        """The token (``GET /users/@me``), or a chat channel fetched afresh (403/404 raise its refusal)."""
        await probe_scope(self.client.http, scope, self._channel, self._channels)

    def pace_key(self, chat_channel: str) -> str:
        """Paced per inbox channel (its threads share the budget): 5 messages / 5 s by default."""
        return chat_channel

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        """Open the conversation's thread (or forum post) with the card and its components."""
        await self._ready()
        channel = await self._channel(chat_channel)
        embed, view = card_embed(card), await self._view(card)
        where = f"channel {chat_channel}"
        try:
            retried = (
                card.delivery is not None and card.delivery.retried
            )  # an earlier attempt may have opened it
            if retried and (adopted := await adopt_thread(self.client, channel, card, embed, view)):
                self._names[adopted.thread_id] = thread_name(card)
                return adopted
            if isinstance(channel, discord.ForumChannel):
                made = await channel.create_thread(
                    name=thread_name(card),
                    embed=embed,
                    view=view,
                    allowed_mentions=NONE,
                    applied_tags=forum_tags(channel, card, self.settings.default_forum_tag),
                    auto_archive_duration=_ARCHIVE_AFTER_MINUTES,
                )
                thread, message = made.thread, made.message
            else:
                thread = await channel.create_thread(
                    name=thread_name(card),
                    type=discord.ChannelType.public_thread,
                    auto_archive_duration=_ARCHIVE_AFTER_MINUTES,
                )
                message = await self._first_message(thread, embed, view)
        except DeliveryError:
            raise
        except discord.HTTPException as exc:
            if exc.code == ACTIVE_THREADS_FULL:
                await self._say_threads_full(channel)
                raise TransientDeliveryError(
                    "Discord's active-thread limit is reached (160006); waiting for threads to be archived"
                ) from exc
            raise self._error(exc, where, thread=False) from exc
        except Exception as exc:
            raise self._error(exc, where, thread=False) from exc
        self._threads_full.discard(chat_channel)
        self._names[str(thread.id)] = thread_name(card)
        log.info("discord thread created", extra={"conversation": card.number, "thread_id": thread.id})
        return ThreadRef(str(channel.id), str(thread.id), str(message.id))

    async def _say_threads_full(self, channel: Chat) -> None:
        """Tell the team once (in the inbox channel) that new threads wait for room."""
        key = str(channel.id)
        if key in self._threads_full:
            return
        self._threads_full.add(key)
        log.error("discord active-thread limit reached", extra={"chat_channel": key})
        if isinstance(channel, discord.TextChannel):  # a forum takes no plain messages: the log says it
            try:
                await channel.send(THREADS_FULL_NOTICE, allowed_mentions=NONE)
            except discord.HTTPException as exc:
                log.warning("discord notice failed", extra={"chat_channel": key, "code": exc.code})

    @staticmethod
    async def _first_message(
        thread: discord.Thread, embed: discord.Embed, view: discord.ui.View
    ) -> discord.Message:
        """Post the card into a new thread; a refused card takes its empty thread with it."""
        try:
            return await thread.send(embed=embed, view=view, allowed_mentions=NONE)
        except Exception:
            try:
                await thread.delete()
            except discord.HTTPException as exc:
                log.warning(
                    "discord empty thread left behind", extra={"thread_id": thread.id, "code": exc.code}
                )
            raise

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        """Edit the card in place; keep forum tags in step; archive the thread when closed (if configured)."""
        await self._ready()
        embed, view = card_embed(card), await self._view(card)
        thread = self.client.get_partial_messageable(int(ref.thread_id))
        message = thread.get_partial_message(int(ref.card_id))
        await self._call(ref, lambda: message.edit(embed=embed, view=view, allowed_mentions=NONE))
        changes: dict[str, Any] = {}
        channel = await self._channel(ref.chat_channel)
        if isinstance(channel, discord.ForumChannel) and channel.available_tags:
            changes["applied_tags"] = [
                str(tag.id) for tag in forum_tags(channel, card, self.settings.default_forum_tag)
            ]
        name = thread_name(card)
        if name != await self._name(ref):
            changes["name"] = name
        if card.status == "closed" and self.settings.archive_on_close:
            changes["archived"] = True
        if changes:
            await self._call(ref, lambda: self.client.http.edit_channel(int(ref.thread_id), **changes))
            self._names[ref.thread_id] = name

    async def _name(self, ref: ThreadRef) -> str:
        """The thread's current name (read from Discord once per thread and process)."""
        known = self._names.get(ref.thread_id)
        if known is None:
            data = await self._call(ref, lambda: self.client.http.get_channel(int(ref.thread_id)))
            known = self._names[ref.thread_id] = str(data.get("name", ""))
        return known

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        """Post into the thread: customer text under the customer's name, split to Discord's limits, files."""
        await self._ready()
        thread = self.client.get_partial_messageable(int(ref.thread_id))
        sent_ids: list[str] = []
        for index, outgoing in enumerate(post_messages(post)):
            nonce = part_nonce(post, index)

            def send(out: OutgoingMessage = outgoing, nonce: str | int = nonce) -> Awaitable[discord.Message]:
                kwargs: dict[str, Any] = {"content": out.content, "files": part_files(out), "nonce": nonce}
                if out.embed is not None:
                    kwargs["embed"] = out.embed
                if out.undo_number is not None:
                    kwargs["view"] = undo_controls(out.undo_number)
                return thread.send(allowed_mentions=NONE, **kwargs)

            sent = await self._call(ref, send)
            sent_ids.append(str(sent.id))
        joined = join_ids(sent_ids)
        if len(joined.split()) < len(sent_ids):  # too many parts to list: the range finds them all
            return f"{sent_ids[0]}{_RANGE}{sent_ids[-1]}"
        return joined

    async def redact(self, ref: ThreadRef, item_id: str) -> None:
        """Delete a post (every part of it, with its attachments) from the thread: a forgotten contact's
        message. ``item_id`` lists the parts, or gives their range ``first..last`` (a very long post)."""
        await self._ready()
        for message_id in await self._parts(ref, item_id):
            try:
                await self.client.http.delete_message(int(ref.thread_id), int(message_id))
            except discord.NotFound:
                continue  # already deleted: nothing left to erase
            except Exception as exc:
                raise self._error(exc, f"thread {ref.thread_id}") from exc

    async def _parts(self, ref: ThreadRef, item_id: str) -> list[str]:
        """The message ids of a post: as listed, or Threadline's own messages in its ``first..last`` range."""
        if _RANGE not in item_id:
            return item_id.split()
        first, _, last = item_id.partition(_RANGE)
        own = self.client.user.id if self.client.user is not None else None
        found: list[str] = []
        http, thread, after, before = self.client.http, int(ref.thread_id), int(first) - 1, int(last) + 1
        while True:
            page = await self._call(
                ref, functools.partial(http.logs_from, thread, 100, after=after, before=before)
            )
            found += [str(m["id"]) for m in page if int(m["author"]["id"]) == own]
            if len(page) < 100:
                return found
            after = max(int(m["id"]) for m in page)

    async def post_digest(self, chat_channel: str, digest: DigestView) -> str:
        """Post a digest embed (not in a thread) to ``chat_channel``."""
        await self._ready()
        channel = self.client.get_partial_messageable(int(chat_channel)) if chat_channel.isdigit() else None
        if channel is None:
            raise PermanentDeliveryError(f"'{chat_channel}' is not a Discord channel id (digest channel)")
        embed = digest_embed(digest)
        files = []
        if digest.chart_png is not None:
            files.append(discord.File(io.BytesIO(digest.chart_png), filename="digest.png"))
            embed.set_image(url="attachment://digest.png")
        try:
            sent = await channel.send(embed=embed, files=files, allowed_mentions=NONE)
        except Exception as exc:
            raise self._error(exc, f"channel {chat_channel}", thread=False) from exc
        return str(sent.id)

    async def post_to_channel(self, chat_channel: str, post: PostView, thread: ThreadRef | None) -> str:
        """Post a notice (an SLA escalation) to ``chat_channel``, linking the thread; mentions stay inert."""
        await self._ready()
        if not chat_channel.isdigit():
            raise PermanentDeliveryError(f"'{chat_channel}' is not a Discord channel id (escalation channel)")
        link = f" → <#{thread.thread_id}>" if thread is not None else ""
        try:
            sent = await self.client.get_partial_messageable(int(chat_channel)).send(
                f"⚠ {post.text}"[:1900] + link, allowed_mentions=NONE
            )
        except Exception as exc:
            raise self._error(exc, f"channel {chat_channel}", thread=False) from exc
        return str(sent.id)

    async def show_queue(self, target: str, view: dict[str, Any]) -> str:
        """Edit chat channel ``target``'s pinned queue message to ``view["text"]`` (post and pin one if
        there is none); return its id."""
        await self._ready()
        try:
            return await self.pinned.show(target, str(view.get("text", "")))
        except Exception as exc:
            raise self._error(exc, f"channel {target}", thread=False) from exc

    # --- helpers ------------------------------------------------------------------------------

    async def _call(self, ref: ThreadRef, call: Callable[[], Awaitable[T]]) -> T:
        """Run one REST call on the thread; unarchive once if Discord says it is archived; map errors."""
        where = f"thread {ref.thread_id}"
        try:
            try:
                return await call()
            except discord.HTTPException as exc:
                if exc.code != ARCHIVED_THREAD:
                    raise
            log.info("discord thread unarchived", extra={"thread_id": ref.thread_id})
            await self.client.http.edit_channel(int(ref.thread_id), archived=False)
            return await call()
        except Exception as exc:
            raise self._error(exc, where) from exc

    async def _channel(self, chat_channel: str) -> Chat:
        cached = self._channels.get(chat_channel)
        if cached is not None and time.monotonic() - cached[0] < _CHANNEL_TTL:
            return cached[1]
        if not chat_channel.isdigit():
            raise PermanentDeliveryError(f"'{chat_channel}' is not a Discord channel id (inbox chat_channel)")
        try:
            channel = await self.client.fetch_channel(int(chat_channel))
        except Exception as exc:
            raise self._error(exc, f"channel {chat_channel}", thread=False) from exc
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            raise PermanentDeliveryError(
                f"Discord channel {chat_channel} is a {getattr(channel, 'type', '?')} channel; "
                "use a text or forum channel"
            )
        self._channels[chat_channel] = (time.monotonic(), channel)
        return channel

    async def _view(self, card: CardView) -> discord.ui.View:
        try:
            known = await self.bridge.labels("")
        except Exception:  # the card still renders without the label picker's extra options
            log.exception("label names unavailable")
            known = []
        return card_controls(card, known)
