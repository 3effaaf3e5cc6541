"""Domain vocabulary: conversation statuses, message kinds, delivery statuses, the refusal error."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DeliveryStatus",
    "DomainError",
    "MessageKind",
    "Status",
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
    UNDONE = "undone"  # taken back by an agent within its undo window; it never left


class DomainError(Exception):
    """A request the core refuses; its message is shown to the agent as is."""
