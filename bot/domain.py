"""Domain vocabulary: statuses, message kinds, delivery statuses and the status transition table."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DeliveryStatus",
    "DomainError",
    "MessageKind",
    "Status",
    "TransitionRefused",
    "next_status",
]


class Status(StrEnum):
    """The life cycle of a conversation."""

    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


class MessageKind(StrEnum):
    """What a stored message is: from the customer, to the customer, internal, or a system event."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"
    EVENT = "event"


class DeliveryStatus(StrEnum):
    """Where an outbound message stands on its way to the customer."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class DomainError(Exception):
    """A request the core refuses; its message is shown to the agent as is."""


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
