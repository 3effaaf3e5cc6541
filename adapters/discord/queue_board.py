"""The optional pinned queue message per inbox channel (``[surfaces.discord] queue_message = true``).

One message by Threadline in each inbox channel, pinned, lists the team's queue of that
channel's inboxes (unassigned, breaching soon, assigned, each with a link to its thread) and is
edited in place when the queue changes. ``QueueBoard`` rebuilds the queue every
``refresh_seconds`` and, only when its text changed, hands it to the outbox
(``bot.outbox.queue_views``: a ``queue_view`` row with the outbox's retries, backoff, pacing and
refusals; a newer text supersedes one still waiting), so an unchanged queue costs no request
(Discord allows 5 messages or edits per 5 s per channel). The outbox delivers it through
``DiscordSurface.show_queue`` to ``PinnedQueue``: the message is edited in place; after a
restart it is found again among the channel's pins (``GET /channels/{id}/messages/pins``,
Discord's Message resource, "Get Channel Pins"); a deleted one is posted and pinned anew
(``PUT /channels/{id}/messages/pins/{message}``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord

from adapters.discord.bridge import NONE
from adapters.discord.render import CONTENT_LIMIT
from bot.outbox.queue_views import ShowQueue
from bot.views import QueueItem, QueueView

__all__ = ["MARKER", "PinnedQueue", "QueueBoard", "TeamQueue", "board_text"]

log = logging.getLogger(__name__)
MARKER = "📋 **Support queue**"
"""How the pinned queue message starts (and is recognised among the pins after a restart)."""
TeamQueue = Callable[[str, str], Awaitable[QueueView]]
"""``CommandService.team_queue``: the team's queue of a surface's chat channel."""


def _line(item: QueueItem) -> str:
    where = f" → <#{item.thread_id}>" if item.thread_id else ""
    flag = f" **{item.priority}**" if item.priority in ("urgent", "high") else ""
    who = f" · {discord.utils.escape_markdown(item.assignee)}" if item.assignee else ""
    subject = discord.utils.escape_markdown(item.subject[:60] or "(no subject)")
    return f"• #{item.number}{flag}{who} · {subject}{where}"


def board_text(view: QueueView) -> str:
    """The pinned message's text, within Discord's 2,000 characters (the rest counted)."""
    parts = [MARKER]
    for title, items in (
        ("Unassigned", view.unassigned),
        ("Breaching soon", view.breaching),
        ("Assigned", view.mine),
    ):
        parts.append(f"**{title} ({len(items)})**")
        parts += [_line(item) for item in items] or ["—"]
    text, shown = "", 0
    for part in parts:
        if len(text) + len(part) + 40 > CONTENT_LIMIT:
            break
        text, shown = text + part + "\n", shown + 1
    if shown < len(parts):
        text += f"… {len(parts) - shown} more lines"
    return text.strip()


class QueueBoard:
    """Rebuilds every inbox channel's queue and queues the pinned message's new text when it changed."""

    def __init__(
        self,
        team_queue: TeamQueue,
        show: ShowQueue,
        chat_channels: Iterable[str],
        *,
        refresh_seconds: float = 10.0,
    ) -> None:
        self.team_queue = team_queue
        self.show = show  # the core's ``QueueViews.show``: the outbox edits the message
        self.chat_channels = [c for c in chat_channels if c.isdigit()]
        self.refresh_seconds = refresh_seconds
        self._texts: dict[str, str] = {}  # chat channel -> the text last queued

    async def run(self) -> None:
        """Refresh every ``refresh_seconds`` until cancelled (a failed round is logged and tried again)."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("discord queue refresh failed", extra={"error": exc.__class__.__name__})
            await asyncio.sleep(self.refresh_seconds)

    async def refresh(self) -> None:
        """Queue the text of every inbox channel's queue message that changed."""
        for channel in self.chat_channels:
            text = board_text(await self.team_queue("discord", channel))
            if self._texts.get(channel) != text:
                await self.show("discord", channel, {"text": text})
                self._texts[channel] = text


class PinnedQueue:
    """The pinned queue message of each inbox channel, edited in place (or posted and pinned)."""

    def __init__(self, client: Callable[[], discord.Client]) -> None:
        self.client = client  # the surface's current client (it is replaced on reconnects)
        self._messages: dict[str, int] = {}  # chat channel -> the pinned message's id

    async def show(self, channel: str, text: str) -> str:
        """Make ``channel``'s pinned queue message say ``text``; return its id (discord errors go up)."""
        http = self.client().http
        message_id = self._messages.get(channel) or await self._pinned(channel)
        if message_id is not None:
            try:
                with _params(text) as params:
                    await http.edit_message(int(channel), message_id, params=params)
            except discord.NotFound:
                message_id = None
        if message_id is None:
            with _params(text) as params:
                posted = await http.send_message(int(channel), params=params)
            message_id = int(posted["id"])
            await http.pin_message(int(channel), message_id, reason="Threadline queue")
        self._messages[channel] = message_id
        return str(message_id)

    async def _pinned(self, channel: str) -> int | None:
        """Our queue message among the channel's pins, if one is there."""
        me = self.client().user
        answer: Any = await self.client().http.pins_from(int(channel))
        items = answer.get("items", []) if isinstance(answer, dict) else [{"message": m} for m in answer]
        for item in items:
            message = item.get("message") or {}
            author = (message.get("author") or {}).get("id")
            if str(message.get("content", "")).startswith(MARKER) and (me is None or str(me.id) == author):
                return int(message["id"])
        return None


def _params(text: str) -> discord.http.MultipartParameters:
    """The multipart parameters discord.py's ``send_message`` takes, for a plain text message."""
    return discord.http.handle_message_parameters(content=text, allowed_mentions=NONE)
