"""Waking snoozed conversations whose time has come."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import lifecycle
from bot.clock import Clock
from bot.config import Settings
from bot.effects import Effects
from storage import Store

__all__ = ["SnoozeWaker"]

log = logging.getLogger(__name__)


class SnoozeWaker:
    """Reopens snoozed conversations at their time; the scheduler calls ``wake_due`` periodically."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify

    async def wake_due(self) -> int:
        """Wake every conversation whose snooze has ended; return how many woke."""
        now = self.clock.now()
        async with self.store.transaction() as uow:
            due = await uow.conversations.due_snoozed(now)
            for conversation in due:
                inbox = self.settings.inbox(conversation.inbox)
                lifecycle.wake(conversation, inbox, now)
                effects = Effects(uow, conversation, inbox, now)
                await effects.event("Threadline", "woke", "snooze ended: back to open")
        if due:
            self.notify()
            log.info("snoozed conversations woke", extra={"count": len(due)})
        return len(due)
