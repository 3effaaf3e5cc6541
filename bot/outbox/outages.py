"""Telling the team, once, that a channel or surface is down, and once that it is back.

The outbox reports every delivery outcome per destination (``channel:<name>``,
``surface:<name>``, named in notices as their adapters declare: ``Settings.destination_label``).
After ``down_after`` consecutive transient failures (rate limits do not count), or at
once when it refuses Threadline's sign-in (``SignInRefused``), the destination is *down*:
a warning is logged, readiness turns red, and one notice goes into the thread of the first
affected conversation — not into every affected thread, which would bury the team. The first
success after that is *recovered*: a log line and one notice in the same thread saying how long
it lasted and that the queued deliveries are going out.

A surface that is down cannot show a notice about itself; for surfaces the
"down" notice is skipped and the "back" notice says what happened. With several
instances the notice is written once: the instance that declares the outage
takes the lease ``outage:<destination>`` (the same leases table as the mailbox
and job leases); the others stay quiet, and the holder announces the recovery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.effects import Effects
from bot.outbox.tell_once import TellOnce
from bot.runtime import metrics
from bot.runtime.health import Health
from storage import Store

__all__ = ["OutageTracker"]

log = logging.getLogger(__name__)
_OUTAGE_LEASE = timedelta(hours=6)


@dataclass
class _State:
    failures: int = 0
    first_failure_at: datetime | None = None
    conversation_id: int | None = None
    reason: str = ""
    down: bool = False
    announced: bool = False
    refused: bool = False  # a refused sign-in: told at once


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return f"{int(delta.total_seconds())} s"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


class OutageTracker:
    """Counts consecutive transient failures per destination and announces outages once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        holder: str,
        *,
        health: Health | None = None,
        down_after: int = 3,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.once = TellOnce(holder, _OUTAGE_LEASE)
        self.health = health
        self.down_after = down_after
        self._states: dict[str, _State] = {}

    def is_down(self, destination: str) -> bool:
        """True while ``destination`` is considered down by this instance."""
        state = self._states.get(destination)
        return bool(state and state.down)

    async def failed(
        self, destination: str, conversation_id: int | None, reason: str, *, refused: bool = False
    ) -> None:
        """A transient failure (not a rate limit) of one delivery to ``destination`` (about a
        conversation, or about none: a digest). ``refused``: the destination refused the sign-in,
        which no retry mends, so it is down (and told) at once rather than after ``down_after``."""
        state = self._states.setdefault(destination, _State())
        state.failures += 1
        if state.first_failure_at is None:
            state.first_failure_at = self.clock.now()
        if state.conversation_id is None:  # the notices go to the first affected conversation's thread
            state.conversation_id = conversation_id
        state.reason = reason[:200]
        state.refused = state.refused or refused
        if state.down or (state.failures < self.down_after and not refused):
            return
        state.down = True
        metrics.set_gauge(metrics.DESTINATION_DOWN, 1, destination=destination)
        if self.health is not None:
            self.health.report(destination, False, f"deliveries failing: {state.reason}")
        log.warning(
            "destination down; retrying with backoff",
            extra={"destination": destination, "failures": state.failures, "reason": state.reason},
        )
        try:
            state.announced = await self._announce_down(destination, state)
        except Exception:
            log.warning(
                "could not record the outage notice", extra={"destination": destination}, exc_info=True
            )

    async def succeeded(self, destination: str) -> None:
        """A delivery to ``destination`` went through."""
        state = self._states.pop(destination, None)
        if state is None or not state.down:
            return
        metrics.set_gauge(metrics.DESTINATION_DOWN, 0, destination=destination)
        if self.health is not None:
            self.health.forget(destination)
        assert state.first_failure_at is not None
        lasted = self.clock.now() - state.first_failure_at
        log.warning(
            "destination recovered",
            extra={"destination": destination, "outage_seconds": int(lasted.total_seconds())},
        )
        try:
            await self._announce_back(destination, state, lasted)
        except Exception:
            log.warning(
                "could not record the recovery notice", extra={"destination": destination}, exc_info=True
            )

    async def component_down(
        self, component: str, inbox_name: str, what: str, reason: str, *, sign_in: bool = False
    ) -> bool:
        """A component this instance runs (a mailbox) stays down: one notice in the inbox's chat channel,
        outside any thread (it is about no conversation). False when nothing could be posted.
        ``sign_in``: the cause is a refused or expired sign-in, and ``reason`` says what to do."""
        now = self.clock.now()
        metrics.set_gauge(metrics.DESTINATION_DOWN, 1, destination=component)
        log.warning("component down", extra={"component": component, "reason": reason[:300]})
        if sign_in:
            text = (
                f"{reason[:300]} (since {now:%H:%M} UTC). New mail is not read until then; it waits "
                "on the server and nothing is lost."
            )
        else:
            text = (
                f"Threadline cannot reach {what} since {now:%H:%M} UTC ({reason[:200]}): new messages "
                "are not arriving. It keeps reconnecting with backoff; nothing is lost, and what arrives "
                "meanwhile is read when it is back."
            )
        return await self._channel_notice(component, inbox_name, text, take=True)

    async def component_up(self, component: str, inbox_name: str, what: str, lasted: timedelta) -> None:
        """The component is back: one notice, where the "down" notice went."""
        metrics.set_gauge(metrics.DESTINATION_DOWN, 0, destination=component)
        log.warning(
            "component recovered",
            extra={"component": component, "outage_seconds": int(lasted.total_seconds())},
        )
        name = what[:1].upper() + what[1:]
        text = f"✅ {name} is reachable again after {_span(lasted)}; new messages are read."
        await self._channel_notice(component, inbox_name, text, take=False)

    async def _channel_notice(self, component: str, inbox_name: str, text: str, *, take: bool) -> bool:
        now = self.clock.now()
        inbox = self.settings.inboxes.get(inbox_name)
        if inbox is None:
            return False
        place, lease = (inbox.surface, inbox.chat_channel), f"outage:{component}"
        async with self.store.transaction() as uow:
            if take:
                return await self.once.tell(uow, lease, now, place, text)
            await self.once.over(uow, lease, now, place, text)
        return True

    async def _notice(self, conversation_id: int, text: str) -> None:
        now = self.clock.now()
        async with self.store.transaction() as uow:
            conversation = await uow.conversations.conversation(conversation_id)
            inbox = self.settings.inbox(conversation.inbox)
            await Effects(uow, conversation, inbox, now).notice(text)

    async def _announce_down(self, destination: str, state: _State) -> bool:
        now = self.clock.now()
        async with self.store.transaction() as uow:
            if not await self.once.tell(uow, f"outage:{destination}", now, None, ""):
                return False  # another instance announced it
        if destination.startswith("surface:") or state.conversation_id is None:
            return True  # nobody could read it there; the recovery notice tells the story
        name = self.settings.destination_label(destination)
        if state.refused:
            await self._notice(
                state.conversation_id,
                f"{name} refuses Threadline's sign-in since {state.first_failure_at:%H:%M} UTC "
                f"({state.reason}). Replies wait in the queue and nothing is lost; they go out once it is "
                "fixed. This is the only notice about it; a second one follows when it works again.",
            )
            return True
        await self._notice(
            state.conversation_id,
            f"{name} is failing since {state.first_failure_at:%H:%M} UTC ({state.reason}). "
            "Threadline keeps retrying with backoff; replies wait in the queue and nothing is lost. "
            "This is the only notice about it; a second one follows when it is back.",
        )
        return True

    async def _announce_back(self, destination: str, state: _State, lasted: timedelta) -> None:
        if not state.announced or state.conversation_id is None:
            return
        async with self.store.transaction() as uow:
            await self.once.over(uow, f"outage:{destination}", self.clock.now(), None, "")
        name = self.settings.destination_label(destination)
        await self._notice(
            state.conversation_id,
            f"✅ {name} works again after {_span(lasted)} ({state.failures} failed attempts); "
            "the queued deliveries are going out now.",
        )
