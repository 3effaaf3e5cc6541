"""The periodic SLA check: reminders before a breach and breach notices, each exactly once.

The check reads conversations whose ``sla_next_at`` has come (one index range),
records each passed point in ``reminders_sent`` (unique per conversation, clock
cycle and level — a second instance or a restart finds the row and stays
silent) and writes the notice to the outbox in the same transaction: a reminder is
recorded only with its notice. Points that passed while Threadline was down are sent
on the first check, marked late; a warning whose breach also passed is not sent.
On PostgreSQL only the holder of the ``sla-check`` lease runs the check; the unique
key keeps reminders single even if two ever overlap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.effects import CARD, CHANNEL_POST, Effects, surface_destination
from bot.humanize import duration_text
from bot.runtime import metrics
from bot.runtime.leases import default_holder
from bot.settings.core import InboxSettings
from bot.sla.clock import TARGET_NAMES, SlaPoint, points_of, state_at
from bot.sla.policy import SlaPolicy, policy_for
from storage import Store, UnitOfWork
from storage.models import Conversation

__all__ = ["SlaChecker", "reminder_text"]

log = logging.getLogger(__name__)
_LATE_AFTER = timedelta(minutes=2)
_FIRST_CHUNK = 25  # conversations in the first chunk of a check; later ones follow CHUNK_SECONDS
_SMALLEST_CHUNK = 10
CHUNK_SECONDS = 0.02  # what one chunk (one transaction, the loop not answering) should take


def reminder_text(
    point: SlaPoint, due: datetime, number: int, who: str | None, policy: SlaPolicy, now: datetime, late: bool
) -> str:
    """The notice shown in the thread for one reminder (``due`` is the breach moment of its clock)."""
    name = TARGET_NAMES.get(point.target, point.target)
    local = due.astimezone(ZoneInfo(policy.timezone)).strftime("%a %H:%M")
    mention = f"@{who}: " if who else ""
    if point.level == "warning":
        seconds = max(0.0, (due - now).total_seconds())
        left = duration_text(seconds if seconds < 60 else round(seconds / 60) * 60.0)  # 38 s, 15 min
        text = f"⏰ {mention}#{number} {name} due in {left} ({local} {policy.timezone})"
    else:
        text = f"🚨 {mention}#{number} {name} target breached at {local} ({policy.timezone})"
    if late:
        after = duration_text((now - point.at).total_seconds())
        text += f" · sent late, {after} after the fact (Threadline was not running)"
    return text


def _to_post(points: list[SlaPoint], now: datetime) -> list[SlaPoint]:
    """The passed points to post: a warning whose clock's breach has passed too is left out (the
    breach notice says it all), and, never posted, it is not recorded as sent either."""
    breached = {p.key for p in points if p.level == "breach" and p.at <= now}
    return [p for p in points if p.at <= now and not (p.level == "warning" and p.key in breached)]


def _next_chunk(size: int, seconds: float, largest: int) -> int:
    """The next chunk's size: this one's scaled to take ``CHUNK_SECONDS``, within [_SMALLEST_CHUNK, largest]
    (fewer conversations per transaction would cost more in commits than the loop gains)."""
    scaled = int(size * CHUNK_SECONDS / max(seconds, 1e-4))
    return max(min(_SMALLEST_CHUNK, largest), min(largest, scaled, size * 2))


class SlaChecker:
    """Runs the SLA check; ``run`` is the scheduled job (lease-guarded), ``check`` does the work."""

    LEASE = "sla-check"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        notify: Callable[[], None],
        *,
        holder: str | None = None,
        lease_seconds: float = 60.0,
        batch: int = 500,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.holder = holder or default_holder()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch

    async def run(self) -> int:
        """Check when this instance holds (or can take) the lease; return reminders written."""
        now = self.clock.now()
        async with self.store.transaction() as uow:
            if not await uow.leases.take(self.LEASE, self.holder, now, now + self.lease):
                return 0
        return await self.check()

    async def check(self) -> int:
        """Fire every passed warning/breach point once; return how many reminders were written.

        Many points at once (after a long stop, or a wave of breaches) are fired in bounded
        chunks, each its own short transaction sized to take about ``CHUNK_SECONDS``, and the
        loop answers others (acknowledgements, webhooks, health) between them.
        """
        now = self.clock.now()
        written, size = 0, min(self.batch, _FIRST_CHUNK)
        while True:
            started = time.perf_counter()
            async with self.store.transaction() as uow:
                due = await uow.schedule.sla_due(now, size)
                written += await self._batch(uow, due, now)
            if len(due) < size:
                break
            size = _next_chunk(size, time.perf_counter() - started, self.batch)
            await asyncio.sleep(0)  # whoever waits for the loop or the write lock goes first
        if written:
            metrics.inc(metrics.SLA_REMINDERS, written)  # one-line metrics hook
            self.notify()
            log.info("sla reminders written", extra={"count": written})
        return written

    async def _batch(self, uow: UnitOfWork, due: list[Conversation], now: datetime) -> int:
        """One batch in a few statements: record every passed point at once, then write the notices."""
        work: list[tuple[Conversation, InboxSettings, SlaPolicy, list[SlaPoint]]] = []
        candidates: list[dict[str, object]] = []
        for conversation in due:
            inbox = self.settings.inboxes.get(conversation.inbox)
            policy = policy_for(inbox) if inbox is not None else None
            if inbox is None or policy is None or conversation.status != "open":
                conversation.sla_next_at = None
                continue
            points = points_of(conversation)
            work.append((conversation, inbox, policy, points))
            for point in _to_post(points, now):
                late = now - point.at > _LATE_AFTER
                candidates.append(
                    {
                        "conversation_id": conversation.id,
                        "target": point.key,
                        "level": point.level,
                        "due_at": point.at,
                        "sent_at": now,
                        "late": late,
                    }
                )
        fresh = await uow.schedule.record_reminders(candidates)
        names = await uow.agents.agent_names(c.assignee_id for c, *_ in work if c.assignee_id is not None)
        cards = await uow.outbox.waiting_rows((c.id for c, *_ in work), CARD)
        written = 0
        for conversation, inbox, policy, points in work:
            effects = Effects(uow, conversation, inbox, now)
            who = names.get(conversation.assignee_id or 0) or policy.on_call
            for point in sorted(_to_post(points, now), key=lambda p: (p.at, p.level != "warning")):
                if (conversation.id, point.key, point.level) not in fresh:
                    continue  # fired before (a restart, or another instance)
                breach_at = next(
                    (p.at for p in points if p.key == point.key and p.level == "breach"), point.at
                )
                late = now - point.at > _LATE_AFTER
                text = reminder_text(point, breach_at, conversation.number, who, policy, now, late)
                await effects.notice(text)
                if point.level == "breach" and policy.escalation_channel:
                    await uow.outbox.enqueue(
                        conversation,
                        surface_destination(inbox.surface),
                        CHANNEL_POST,
                        now,
                        payload={"chat_channel": policy.escalation_channel, "text": text},
                    )
                written += 1
            conversation.sla_next_at = min((p.at for p in points if p.at > now), default=None)
            state = state_at(points, now)
            if state != conversation.sla_state:
                conversation.sla_state = state
                destination = surface_destination(inbox.surface)
                if (conversation.id, destination) not in cards:
                    await uow.outbox.enqueue(conversation, destination, CARD, now)
        return written
