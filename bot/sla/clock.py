"""SLA clocks of one conversation: the ONE place due times are (re)computed.

Called on every relevant event (ingest, reply delivered, snooze, wake, close,
reopen). Decisions, written down:

- **first response** runs from the conversation's creation until our first reply
  reaches the customer (automatic acknowledgements do not count);
- **next response** runs from the first unanswered customer message after that
  (``waiting_since``) until our next reply reaches the customer;
- **resolution** runs from creation, or from the latest reopen, until close;
- clocks only count business time; while a conversation is snoozed or closed they
  are paused (the pause is recorded and added to the target on resume); closing
  also ends the customer's wait;
- the warning and breach moments are stored with the conversation
  (``sla_clock["points"]``), and ``sla_next_at`` is the earliest of them, so the
  periodic check reads one index. A point that already fired is recognised by the
  ``reminders_sent`` unique key, never fired twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.sla.policy import SlaPolicy
from storage.models import Conversation

__all__ = [
    "CUSTOMER",
    "REOPENED",
    "REPLIED",
    "TARGET_NAMES",
    "SlaPoint",
    "points_of",
    "recompute",
    "sla_due_of",
    "state_at",
]

CUSTOMER = "customer"  # a customer (not an auto-reply) wrote
REPLIED = "replied"  # a reply of ours reached the customer
REOPENED = "reopened"  # the conversation was reopened (by anyone)

TARGET_NAMES = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


@dataclass(frozen=True)
class SlaPoint:
    """A moment at which a reminder is due: ``level`` is ``warning`` or ``breach``."""

    key: str
    target: str
    level: str
    at: datetime


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _paused_after(
    policy: SlaPolicy, pauses: list[list[str | None]], start: datetime, now: datetime
) -> timedelta:
    total = timedelta(0)
    for began, ended in pauses:
        end = _when(ended) if ended else now
        if began is not None and end > start:
            total += policy.calendar.between(max(_when(began), start), end)
    return total


def _update_pauses(
    conversation: Conversation, clock: dict[str, Any], now: datetime
) -> list[list[str | None]]:
    pauses: list[list[str | None]] = [list(p) for p in clock.get("pauses", [])]
    is_open = pauses and pauses[-1][1] is None
    if conversation.status != "open" and not is_open:
        pauses.append([_iso(now), None])
    elif conversation.status == "open" and is_open:
        pauses[-1][1] = _iso(now)
    return pauses[-20:]  # old pauses before every running clock's start no longer matter much


def recompute(conversation: Conversation, policy: SlaPolicy | None, now: datetime, *events: str) -> None:
    """Bring a conversation's SLA clocks up to date after ``events`` (none: a status change)."""
    clock: dict[str, Any] = dict(conversation.sla_clock or {})
    if CUSTOMER in events and conversation.waiting_since is None:
        conversation.waiting_since = now
    elif REPLIED in events or conversation.status == "closed":
        conversation.waiting_since = None
    if REOPENED in events:
        clock["resolution_start"] = _iso(now)
    pauses = _update_pauses(conversation, clock, now)
    clock["pauses"] = pauses
    dues: dict[str, datetime | None] = {"first_response": None, "next_response": None, "resolution": None}
    points: list[SlaPoint] = []
    if policy is not None and conversation.status == "open":
        for target, key, start, length in _running(conversation, policy, clock):
            paused = _paused_after(policy, pauses, start, now)
            dues[target] = policy.calendar.add(start, length + paused)
            points.append(SlaPoint(key, target, "breach", dues[target]))  # type: ignore[arg-type]
            warn = policy.warning_after(length)
            if warn is not None:
                points.append(SlaPoint(key, target, "warning", policy.calendar.add(start, warn + paused)))
    conversation.first_response_due = dues["first_response"]
    conversation.next_response_due = dues["next_response"]
    conversation.resolution_due = dues["resolution"]
    clock["points"] = [[p.key, p.target, p.level, _iso(p.at)] for p in points]
    conversation.sla_clock = clock
    conversation.sla_next_at = min((p.at for p in points), default=None)
    if conversation.status == "closed" or policy is None:
        conversation.sla_state = "ok"
    elif conversation.status == "open":
        conversation.sla_state = state_at(points, now)


def _running(
    conversation: Conversation, policy: SlaPolicy, clock: dict[str, Any]
) -> list[tuple[str, str, datetime, timedelta]]:
    """(target, reminder key, start, length) of each clock that runs now."""
    running = []
    if policy.first_response is not None and conversation.first_response_at is None:
        running.append(("first_response", "first_response", conversation.created_at, policy.first_response))
    if (
        policy.next_response is not None
        and conversation.first_response_at is not None
        and conversation.waiting_since is not None
    ):
        start = conversation.waiting_since
        running.append(
            ("next_response", f"next_response@{int(start.timestamp())}", start, policy.next_response)
        )
    if policy.resolution is not None:
        start = _when(clock["resolution_start"]) if "resolution_start" in clock else conversation.created_at
        running.append(("resolution", f"resolution@{int(start.timestamp())}", start, policy.resolution))
    return running


def points_of(conversation: Conversation) -> list[SlaPoint]:
    """The warning and breach moments stored by the last ``recompute``."""
    raw = (conversation.sla_clock or {}).get("points", [])
    return [SlaPoint(key, target, level, _when(at)) for key, target, level, at in raw]


def state_at(points: list[SlaPoint], now: datetime) -> str:
    """``breached`` once a breach point passed, ``warning`` once a warning point passed, else ``ok``."""
    passed = {p.level for p in points if p.at <= now}
    return "breached" if "breach" in passed else "warning" if "warning" in passed else "ok"


def sla_due_of(conversation: Conversation) -> datetime | None:
    """The earliest running due time (what the card shows)."""
    dues = [conversation.first_response_due, conversation.next_response_due, conversation.resolution_due]
    return min((d for d in dues if d is not None), default=None)
