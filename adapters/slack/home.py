"""The personal queue on Slack's App Home tab: ``app_home_opened`` → ``views.publish``, kept fresh.

When an agent opens the Home tab Slack sends ``app_home_opened`` with ``tab: "home"``
(https://api.slack.com/events/app_home_opened); Threadline publishes their queue there
(``views.publish``, https://docs.slack.dev/reference/methods/views.publish): "Mine",
"Unassigned" and "Breaching soon", each conversation a link to its thread (``chat.getPermalink``,
cached) and, when it is not theirs, a Claim button. The view goes out through the outbox
(``bot.outbox.queue_views``: a ``queue_view`` row, retried, paced and refused like every delivery;
a newer view of the same agent supersedes one still waiting). The event is acknowledged without
the journal: publishing changes nothing in Threadline, and a lost one is redone by the next
opening. A Claim click is journaled like every card button, then the Home is published again.

Agents who opened the tab are watched: every ``refresh_seconds`` their queue is rebuilt and
published only when it changed, so a burst of changes costs one ``views.publish`` per agent
(debounced) and an idle queue costs none. The watch list is kept in memory: after a restart an
agent's Home refreshes again from their next opening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.home_view import CLAIM_PREFIX, home_view
from adapters.slack.inbound import SlackInbound
from bot.commands import Actor, Location
from bot.outbox.queue_views import ShowQueue
from bot.views import QueueView

__all__ = ["REFRESH_SECONDS", "QueueSource", "SlackHome"]

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0
"""How often watched Home tabs are rebuilt (and republished when they changed)."""
_CLAIM = re.compile(rf"^{re.escape(CLAIM_PREFIX)}(?:unassigned|breaching):(\d+)$")
QueueSource = Callable[[Actor, str], Awaitable[QueueView | None]]
"""``CommandService.queue``: an agent's queue on a surface (None: not an agent)."""


class SlackHome:
    """Publishes agents' queues on their App Home tab and keeps the open ones fresh."""

    def __init__(
        self,
        inbound: SlackInbound,
        queue: QueueSource,
        show: ShowQueue,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.inbound = inbound
        self.refresh_seconds = refresh_seconds
        self.queue = queue  # the core's ``CommandService.queue``
        self.show = show  # the core's ``QueueViews.show``: the outbox publishes
        self._shown: dict[str, str] = {}  # user id -> the view last queued (JSON)
        self._banner: dict[str, str] = {}  # user id -> the answer to their last Claim click
        self._refresher: asyncio.Task[None] | None = None
        inbound.app.event("app_home_opened")(self._on_opened)
        inbound.app.action(_CLAIM)(self._on_claim)
        inbound.replayers["home_claim"] = self._replay_claim

    async def _on_opened(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab") == "home" and event.get("user"):
            self._shown.pop(str(event["user"]), None)  # publish even when unchanged: the tab was opened
            self.inbound.spawn(self.publish(str(event["user"])), "home")
        await ack()

    async def _on_claim(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        key = f"{body.get('trigger_id')}:{action.get('action_id')}" if body.get("trigger_id") else None
        await self.inbound.journaled("home_claim", {"body": body, "action": action}, key)
        await ack()

    async def _replay_claim(self, work: dict[str, Any], journal_id: int) -> None:
        user = work["body"].get("user") or {}
        user_id = str(user.get("id", ""))
        match = _CLAIM.match(str(work["action"].get("action_id", "")))
        actor = await self.inbound.acting(user_id, user.get("name"))
        if actor is None or match is None:
            return
        where = Location("slack", journal_id=journal_id)
        reply = await self.inbound.run(actor, f"claim #{match.group(1)}", where, prefixed=False)
        self._banner[user_id] = ("" if reply.ok else "⚠ ") + reply.text
        await self.publish(user_id)

    async def publish(self, user_id: str) -> None:
        """Build ``user_id``'s Home and queue it for publishing (when it changed); watch it from now on."""
        actor = await self.inbound.acting(user_id, None)
        queue = await self.queue(actor, "slack") if actor is not None else None
        links = {item.number: await self._link(item.chat_channel, item.thread_id) for item in _items(queue)}
        view = home_view(queue, links, self._banner.get(user_id, ""), self.inbound.directory.refusal())
        shown = json.dumps(view, sort_keys=True)
        if self._shown.get(user_id) == shown:
            return
        await self.show("slack", user_id, view)
        self._shown[user_id] = shown
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh(), name="slack-home-refresh")

    async def _link(self, channel: str | None, thread_id: str | None) -> str | None:
        return await self.inbound.surface.permalink(channel, thread_id) if channel and thread_id else None

    async def _refresh(self) -> None:
        while self._shown:
            await asyncio.sleep(self.refresh_seconds)
            for user_id in list(self._shown):
                try:
                    await self.publish(user_id)
                except Exception as exc:
                    log.warning("slack home refresh failed", extra={"error": exc.__class__.__name__})

    async def stop(self) -> None:
        """Stop refreshing Home tabs."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None


def _items(queue: QueueView | None) -> list[Any]:
    if queue is None:
        return []
    return [*queue.mine, *queue.unassigned, *queue.breaching]
