"""What a channel adapter hands to the core: one parsed customer message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["AutoKind", "ChannelCursor", "InboundAttachment", "InboundMessage", "IngestResult"]


class AutoKind:
    """Labels for mail that no human wrote; such messages never trigger automatic replies."""

    AUTO_REPLY = "auto-reply"
    BOUNCE = "bounce"
    LIST = "list"


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with a customer message.

    ``data`` is None when the file was over the size limit (``too_large``): it is
    recorded and reported in the thread, never silently dropped.
    """

    filename: str
    content_type: str
    size: int
    data: bytes | None = None
    inline: bool = False
    content_id: str | None = None
    too_large: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ChannelCursor:
    """A channel's sync position (e.g. IMAP UIDVALIDITY + last UID), stored in the ingest transaction."""

    key: str
    value: str


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, parsed by a channel adapter.

    ``text`` is what the thread shows (quotes and signatures stripped);
    ``original_text``/``html``/``raw`` keep the original so it is always retrievable.
    ``thread_refs`` are the external ids this message answers (email In-Reply-To and
    References); ``conversation_hint`` a conversation number the channel found (the
    ``[#42]`` subject token). With ``match_open_by_contact`` (WhatsApp) the contact's
    open conversation in the inbox is continued instead of starting a new one.
    ``extra["choice"]`` is the title of a reply button or list option the customer
    picked, where the channel has them. ``more_follow`` says the channel is reading a
    backlog and has more messages ready right after this one (``bot.ingest.backlog``).
    ``sender_identities`` lists every (kind, value) identity the channel knows for the sender
    when there is more than ``sender_address`` (WhatsApp: the phone number and the
    business-scoped user id); ingest links them all to one contact. ``quotes`` and
    ``reacts_to`` are the external id of the message this one quotes or reacts to; the
    thread then names that message.
    ``resynced`` marks a message read again after the channel lost its position (an IMAP
    folder rebuilt with a new UIDVALIDITY) that arrived before the last one stored: it is
    stored if new, but never answered automatically (away message, rule reply, survey).
    ``journal_id`` is the intake journal entry this message completes (``bot.ingest.journal``):
    ingest marks it done in the transaction that stores the message.
    """

    channel: str
    inbox: str
    external_id: str
    sender_address: str
    received_at: datetime
    text: str
    sender_name: str | None = None
    subject: str | None = None
    original_text: str | None = None
    html: str | None = None
    raw: bytes | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    thread_refs: tuple[str, ...] = ()
    conversation_hint: int | None = None
    match_open_by_contact: bool = False
    auto_kind: str | None = None
    bounced_refs: tuple[str, ...] = ()
    parse_errors: tuple[str, ...] = ()
    cursor: ChannelCursor | None = None
    extra: dict[str, str] = field(default_factory=dict)
    more_follow: bool = False
    sender_identities: tuple[tuple[str, str], ...] = ()
    quotes: str | None = None
    reacts_to: str | None = None
    resynced: bool = False
    journal_id: int | None = None


@dataclass(frozen=True)
class IngestResult:
    """What ingest did with a message."""

    duplicate: bool
    conversation_number: int | None
    created_conversation: bool = False
    reopened: bool = False
