"""A conversation's life cycle: every status transition with the fields it resets and its SLA clocks.

Commands, ingest, the snooze waker and the outbox call these instead of writing
``status`` themselves, so a transition and its consequences (``snoozed_until``,
``closed_at``, ``first_response_at``, the SLA due times) can never drift apart.
Each function changes the conversation in memory; the caller's transaction stores it.
"""

from __future__ import annotations

from datetime import datetime

from bot import sla
from bot.domain import DomainError, Status
from bot.settings.core import InboxSettings
from storage.models import Conversation

__all__ = [
    "REFUSALS",
    "TRANSITIONS",
    "TransitionRefused",
    "close",
    "customer_wrote",
    "next_status",
    "reopen",
    "reopen_by_customer",
    "replied",
    "snooze",
    "wake",
    "wake_by_customer",
]


class TransitionRefused(DomainError):
    """A status change that the transition table does not allow."""


#: (current status, trigger) -> new status. Anything absent is refused with the reason below.
TRANSITIONS: dict[tuple[Status, str], Status] = {
    (Status.OPEN, "snooze"): Status.SNOOZED,
    (Status.OPEN, "close"): Status.CLOSED,
    (Status.OPEN, "customer_message"): Status.OPEN,
    (Status.SNOOZED, "snooze"): Status.SNOOZED,
    (Status.SNOOZED, "wake"): Status.OPEN,
    (Status.SNOOZED, "reopen"): Status.OPEN,
    (Status.SNOOZED, "close"): Status.CLOSED,
    (Status.SNOOZED, "customer_message"): Status.OPEN,
    (Status.CLOSED, "reopen"): Status.OPEN,
    (Status.CLOSED, "customer_message"): Status.OPEN,
}

REFUSALS: dict[tuple[Status, str], str] = {
    (Status.OPEN, "reopen"): "#{number} is already open.",
    (Status.OPEN, "wake"): "#{number} is not snoozed.",
    (Status.CLOSED, "close"): "#{number} is already closed.",
    (Status.CLOSED, "snooze"): "#{number} is closed; reopen it first (reopen).",
    (Status.CLOSED, "wake"): "#{number} is closed, not snoozed.",
}


def next_status(current: Status, trigger: str, number: int) -> Status:
    """Return the status that ``trigger`` leads to from ``current``, or raise TransitionRefused."""
    try:
        return TRANSITIONS[(current, trigger)]
    except KeyError:
        reason = REFUSALS.get(
            (current, trigger), "#{number}: cannot " + trigger + " a {status} conversation."
        )
        raise TransitionRefused(reason.format(number=number, status=current.value)) from None


def _move(conversation: Conversation, trigger: str) -> None:
    conversation.status = next_status(Status(conversation.status), trigger, conversation.number)


def _recompute(conversation: Conversation, inbox: InboxSettings, now: datetime, *events: str) -> None:
    sla.recompute(conversation, sla.policy_for(inbox), now, *events)


def snooze(conversation: Conversation, inbox: InboxSettings, until: datetime, now: datetime) -> None:
    """An agent snoozed the conversation until ``until``; its SLA clocks pause."""
    _move(conversation, "snooze")
    conversation.snoozed_until = until
    _recompute(conversation, inbox, now)


def wake(conversation: Conversation, inbox: InboxSettings, now: datetime) -> None:
    """The snooze ended at its time: open again, clocks running."""
    _move(conversation, "wake")
    conversation.snoozed_until = None
    _recompute(conversation, inbox, now)


def close(conversation: Conversation, inbox: InboxSettings, now: datetime) -> None:
    """An agent closed the conversation; the resolution clock stops and the customer no longer waits."""
    _move(conversation, "close")
    conversation.snoozed_until = None
    conversation.closed_at = now
    _recompute(conversation, inbox, now)


def reopen(conversation: Conversation, inbox: InboxSettings, now: datetime) -> None:
    """An agent reopened a closed or snoozed conversation; a closed one starts a new resolution clock."""
    _move(conversation, "reopen")
    conversation.snoozed_until = None
    was_closed = conversation.closed_at is not None
    conversation.closed_at = None
    _recompute(conversation, inbox, now, *((sla.REOPENED,) if was_closed else ()))


def reopen_by_customer(conversation: Conversation) -> None:
    """The customer wrote again into a recently closed conversation (clocks follow in ``customer_wrote``)."""
    conversation.status = next_status(Status.CLOSED, "customer_message", conversation.number)
    conversation.closed_at = None


def wake_by_customer(conversation: Conversation) -> None:
    """The customer wrote into a snoozed conversation: the snooze ends (clocks: ``customer_wrote``)."""
    conversation.status = next_status(Status.SNOOZED, "customer_message", conversation.number)
    conversation.snoozed_until = None


def customer_wrote(
    conversation: Conversation, inbox: InboxSettings, now: datetime, *, reopened: bool, automatic: bool
) -> None:
    """A message from the customer was filed: the clocks restart (an auto-reply or bounce starts no wait)."""
    events = ((sla.REOPENED,) if reopened else ()) + (() if automatic else (sla.CUSTOMER,))
    _recompute(conversation, inbox, now, *events)


def replied(conversation: Conversation, inbox: InboxSettings, now: datetime) -> None:
    """A reply of ours reached the customer: the first response is recorded, the customer's wait ends."""
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    _recompute(conversation, inbox, now, sla.REPLIED)
