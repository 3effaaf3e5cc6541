"""Surface-neutral views of conversations and messages, built by the core and rendered by surfaces."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AttachmentView",
    "CardView",
    "DeliveryKey",
    "DigestEntry",
    "DigestView",
    "OutboundView",
    "PostView",
    "QueueItem",
    "QueueView",
    "Reply",
    "digest_from_payload",
    "digest_payload",
]


@dataclass(frozen=True)
class DeliveryKey:
    """Which outbox row a card or post delivers, so a surface that can label its messages (Slack
    metadata, Discord's nonce) finds a message an earlier attempt posted instead of posting it again.

    ``retried``: the row was claimed before (an attempt may have posted and died before it was
    recorded), so the surface looks for that message first. ``queued_at``: when the row was written;
    what an earlier attempt made is not older, so an older look-alike (a card's earlier thread) is
    never taken for it."""

    outbox_id: int
    retried: bool = False
    queued_at: datetime | None = None


@dataclass(frozen=True)
class AttachmentView:
    """A file to show or send; ``data`` is None for a file that was too large to keep."""

    filename: str
    content_type: str
    size: int
    data: bytes | None = None
    note: str | None = None


@dataclass(frozen=True)
class CardView:
    """Everything the thread's root message shows."""

    number: int
    inbox: str
    channel: str
    customer: str
    customer_address: str
    subject: str
    status: str
    assignee: str | None
    labels: tuple[str, ...]
    priority: str
    snoozed_until: datetime | None = None
    timezone: str = "UTC"
    sla_due: datetime | None = None
    sla_state: str = "ok"  # ok | warning | breached
    last_activity: str | None = None
    account: str = ""  # the customer's organisation, when their channel names one (a Slack Connect team)
    # which delivery posts it (not part of what the card shows: left out of its fingerprint)
    delivery: DeliveryKey | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PostView:
    """One message to show in a thread.

    ``kind`` is inbound | outbound | note | event | notice. Customer content
    (``from_customer``) must be rendered inert: no mentions, no link tricks.
    """

    kind: str
    author: str
    text: str
    created_at: datetime
    from_customer: bool = False
    attachments: tuple[AttachmentView, ...] = ()
    channel: str = ""
    message_uid: str | None = None
    undo_number: int | None = None  # a held reply of conversation N can be undone from here (an Undo button)
    delivery: DeliveryKey | None = field(default=None, compare=False, repr=False)  # which outbox row


@dataclass(frozen=True)
class OutboundView:
    """A reply on its way to the customer, with what a channel needs to thread it."""

    uid: str
    conversation_number: int
    inbox: str
    inbox_address: str
    channel: str
    to_address: str
    to_name: str | None
    subject: str
    text: str
    agent_name: str | None
    thread_refs: tuple[str, ...] = ()
    attachments: tuple[AttachmentView, ...] = ()
    template: str | None = None
    template_params: tuple[str, ...] = ()
    auto_submitted: bool = False
    choices: tuple[str, ...] = ()  # the customer answers by picking one (WhatsApp: an interactive list)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """The core's answer to an agent's command.

    ``ephemeral`` answers are shown only to the agent (errors, help, listings);
    the rest of what a command changes reaches the thread through the outbox.
    """

    text: str
    ok: bool = True
    ephemeral: bool = True
    conversation_number: int | None = None
    needs_confirmation: bool = False


@dataclass(frozen=True)
class DigestEntry:
    """One conversation listed in a digest, with where its thread lives (for a link)."""

    number: int
    subject: str
    inbox: str
    assignee: str | None
    waiting_since: datetime | None
    sla_state: str = "ok"
    surface: str | None = None
    chat_channel: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True)
class DigestView:
    """A digest, surface-neutral: counts now, the period's flow, timings and the longest waits.

    Durations are in seconds (None when nothing happened in the period); ``sla_compliance``
    is a percentage or None when no inbox of the digest has an SLA.
    """

    name: str
    title: str
    period_start: datetime
    period_end: datetime
    timezone: str
    inboxes: tuple[str, ...]
    open: int
    unassigned: int
    snoozed: int
    breached: int
    opened: int
    closed: int
    median_first_response: float | None
    median_resolution: float | None
    sla_compliance: float | None
    oldest: tuple[DigestEntry, ...] = ()
    by_assignee: tuple[tuple[str, int], ...] = ()
    by_label: tuple[tuple[str, int], ...] = ()
    late: bool = False
    chart_png: bytes | None = None  # opened per day and channel + first-response percentiles


@dataclass(frozen=True)
class QueueItem:
    """One conversation in a personal queue, with where its thread lives (for a link)."""

    number: int
    subject: str
    customer: str
    priority: str
    assignee: str | None
    sla_due: datetime | None
    sla_state: str = "ok"
    chat_channel: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True)
class QueueView:
    """An agent's queue on one surface: their open conversations, the unassigned, those breaching soon."""

    agent: str
    mine: tuple[QueueItem, ...]
    unassigned: tuple[QueueItem, ...]
    breaching: tuple[QueueItem, ...]
    timezone: str = "UTC"


def digest_payload(digest: DigestView) -> dict[str, Any]:
    """A digest as JSON-ready data, for the outbox row that posts it (``digest_from_payload`` reads it)."""
    data = asdict(digest)
    for key in ("period_start", "period_end"):
        data[key] = data[key].isoformat()
    for entry in data["oldest"]:
        since = entry["waiting_since"]
        entry["waiting_since"] = since.isoformat() if since is not None else None
    chart = data["chart_png"]
    data["chart_png"] = base64.b64encode(chart).decode() if chart is not None else None
    return data


def digest_from_payload(data: Mapping[str, Any]) -> DigestView:
    """The digest ``digest_payload`` wrote, as it was built."""
    chart = data.get("chart_png")
    oldest = tuple(
        DigestEntry(
            **{
                **entry,
                "waiting_since": datetime.fromisoformat(entry["waiting_since"])
                if entry.get("waiting_since")
                else None,
            }
        )
        for entry in data.get("oldest", ())
    )
    return DigestView(
        **{
            **data,
            "period_start": datetime.fromisoformat(data["period_start"]),
            "period_end": datetime.fromisoformat(data["period_end"]),
            "inboxes": tuple(data["inboxes"]),
            "oldest": oldest,
            "by_assignee": tuple((str(name), int(count)) for name, count in data.get("by_assignee", ())),
            "by_label": tuple((str(name), int(count)) for name, count in data.get("by_label", ())),
            "chart_png": base64.b64decode(chart) if chart is not None else None,
        }
    )
