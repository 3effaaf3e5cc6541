"""Queue views through the outbox: a user's or a channel's queue, as the surface's adapter rendered it.

Slack's App Home and Discord's pinned queue message are rebuilt by their adapters when the queue
changes; what is to be shown goes out as a ``queue_view`` row about no conversation, with the
outbox's one retry, backoff, pacing and refusal policy. Only the newest view of a target matters:
writing one supersedes that target's rows still pending, so a burst of changes costs one call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.clock import Clock
from bot.effects import QUEUE_VIEW, surface_destination
from storage import Store

__all__ = ["QueueViews", "ShowQueue"]

ShowQueue = Callable[[str, str, dict[str, Any]], Awaitable[None]]
"""``QueueViews.show`` as adapters take it: ``show(surface, target, view)``."""


class QueueViews:
    """Queues the newest view of a target on a surface and wakes the outbox."""

    def __init__(self, store: Store, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify

    async def show(self, surface: str, target: str, view: dict[str, Any]) -> None:
        """Show ``view`` (JSON-able, the adapter's rendering) to ``target`` on ``surface``, replacing any
        older view of it still waiting."""
        async with self.store.transaction() as uow:
            await uow.outbox.enqueue_view(
                surface_destination(surface), QUEUE_VIEW, target, self.clock.now(), {"view": view}
            )
        self.notify()
