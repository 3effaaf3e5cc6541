"""SQLAlchemy 2 models. Unique constraints carry deduplication."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

__all__ = [
    "Agent",
    "AgentIdentity",
    "Attachment",
    "AuditEvent",
    "Base",
    "CannedTemplate",
    "ChannelCursorRow",
    "Contact",
    "ContactIdentity",
    "ContactNote",
    "Conversation",
    "ConversationLabel",
    "Counter",
    "CsatRating",
    "DigestRun",
    "Label",
    "Lease",
    "Message",
    "OutboxRow",
    "ProcessedEvent",
    "ReminderSent",
    "ThreadRow",
]

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _new_uid() -> str:
    """A fresh random row uid (32 hex digits)."""
    return uuid4().hex


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Counter(Base):
    """Named counters (conversation numbers are unique per installation)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Contact(Base):
    """A customer; one contact across channels."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # tells the ids of a many-row INSERT ... RETURNING apart (migration 0016)
    uid: Mapped[str] = mapped_column(
        String(32), unique=True, nullable=False, default=_new_uid, insert_sentinel=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    identities: Mapped[list[ContactIdentity]] = relationship(
        back_populates="contact", lazy="selectin", order_by="ContactIdentity.id"
    )


class ContactIdentity(Base):
    """An address by which a contact reaches us: an email address or a phone number."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identity"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(
        String(32), unique=True, nullable=False, default=_new_uid, insert_sentinel=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[str] = mapped_column(String(320), nullable=False)
    contact: Mapped[Contact] = relationship(back_populates="identities", lazy="raise")


class Agent(Base):
    """A team member."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    away: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AgentIdentity(Base):
    """An agent's user id on one surface (Slack ``U…``, Discord snowflake, local name)."""

    __tablename__ = "agent_identities"
    __table_args__ = (UniqueConstraint("surface", "external_id", name="uq_agent_identity"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    surface: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)


class Label(Base):
    """A label; ``key`` is the lowercase form that makes labels case-insensitive."""

    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)


class ConversationLabel(Base):
    """Which labels a conversation carries."""

    __tablename__ = "conversation_labels"
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)


class Conversation(Base):
    """One customer case, numbered per installation."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_snoozed", "status", "snoozed_until"),
        Index("ix_conversations_contact_inbox", "contact_id", "inbox", "status"),
        Index("ix_conversations_assignee_status", "assignee_id", "status"),
        Index("ix_conversations_sla_next", "sla_next_at"),
        Index("ix_conversations_status_sla", "status", "sla_state"),
        Index("ix_conversations_status_waiting", "status", "waiting_since"),
        Index("ix_conversations_inbox_status", "inbox", "status", "sla_state", "assignee_id"),
        Index("ix_conversations_inbox_created", "inbox", "created_at", "channel"),
        Index("ix_conversations_inbox_closed", "inbox", "closed_at", "channel", "created_at"),
        Index("ix_conversations_inbox_responded", "inbox", "first_response_at", "channel", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # unique and set by the client: lets a flush insert many conversations in one statement on SQLite too
    number: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False, insert_sentinel=True)
    inbox: Mapped[str] = mapped_column(String(100), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SLA clocks (bot.sla.clock.recompute keeps them; the SLA check reads sla_next_at only)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_state: Mapped[str] = mapped_column(String(10), nullable=False, default="ok", server_default="ok")
    sla_clock: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # set when staging, so a new contact and conversation need no flush for their ids (ingest batches)
    contact: Mapped[Contact] = relationship(lazy="raise")


class Message(Base):
    """A message in a conversation: inbound, outbound, note or event."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_external"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_external_id", "external_id"),
        Index("ix_messages_chat_ref", "chat_ref"),
    )
    # Nullable columns "evaluate None": a NULL is written as a value, so every message row has the
    # same columns and the ORM writes a batch's messages (inbound, events, replies) in one INSERT.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(
        String(32), unique=True, nullable=False, default=_new_uid, insert_sentinel=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    channel: Mapped[str | None] = mapped_column(String(20).evaluates_none())
    external_id: Mapped[str | None] = mapped_column(String(500).evaluates_none())
    author_agent_id: Mapped[int | None] = mapped_column(BigId.evaluates_none(), ForeignKey("agents.id"))
    author_name: Mapped[str | None] = mapped_column(String(200).evaluates_none())
    subject: Mapped[str | None] = mapped_column(String(500).evaluates_none())
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    original_text: Mapped[str | None] = mapped_column(Text().evaluates_none())
    html: Mapped[str | None] = mapped_column(Text().evaluates_none())
    raw: Mapped[bytes | None] = mapped_column(LargeBinary().evaluates_none())
    auto_kind: Mapped[str | None] = mapped_column(String(20).evaluates_none())
    delivery_status: Mapped[str | None] = mapped_column(String(20).evaluates_none())
    delivery_error: Mapped[str | None] = mapped_column(Text().evaluates_none())
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the team-side chat message it came from (``slack:1712.0001``, ``discord:1234``), so an edit or
    # deletion of that chat message reaches the stored note or held reply
    chat_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    conversation: Mapped[Conversation] = relationship(lazy="raise")


class Attachment(Base):
    """A file that came with (or goes with) a message; ``data`` is None when it was too large."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300), nullable=False)
    content_type: Mapped[str] = mapped_column(String(200), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="stored")
    error: Mapped[str | None] = mapped_column(Text)
    message: Mapped[Message] = relationship(lazy="raise")


class AuditEvent(Base):
    """The audit trail: who changed what, when."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_conversation", "conversation_id", "id"),
        Index("ix_audit_created_action", "created_at", "action", "actor", "conversation_id"),  # reports
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ThreadRow(Base):
    """Where a conversation's thread lives on a surface."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("conversation_id", "surface", name="uq_thread_conversation"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    surface: Mapped[str] = mapped_column(String(20), nullable=False)
    chat_channel: Mapped[str] = mapped_column(String(100), nullable=False)
    thread_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    card_id: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class OutboxRow(Base):
    """Work to deliver to a surface or channel, written in the same transaction as the change."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        Index("ix_outbox_line", "conversation_id", "destination", "status", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # None for a row about no conversation (a digest)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(60), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelCursorRow(Base):
    """A channel's sync position, e.g. ``imap:support`` → ``UIDVALIDITY:LASTUID``."""

    __tablename__ = "channel_cursors"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ProcessedEvent(Base):
    """Platform event ids already handled (Slack ``event_id``, redeliveries)."""

    __tablename__ = "processed_events"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Lease(Base):
    """A named lease that one instance holds at a time (leader election on PostgreSQL)."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ReminderSent(Base):
    """An SLA reminder that was written to the outbox; the unique key makes each one fire exactly once.

    ``target`` names the clock and its cycle (``first_response``, ``next_response@<epoch>``,
    ``resolution@<epoch>``); ``level`` is ``warning`` or ``breach``.
    """

    __tablename__ = "reminders_sent"
    __table_args__ = (
        UniqueConstraint("conversation_id", "target", "level", name="uq_reminder_once"),
        Index("ix_reminders_level_due", "level", "due_at", "conversation_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    target: Mapped[str] = mapped_column(String(60), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class DigestRun(Base):
    """A digest period that was (or is being) posted; unique so a missed digest is sent once."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("name", "period_end", name="uq_digest_run"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


# --- automation and teamwork (migration 0003) ---------------------------------------


class ContactNote(Base):
    """An internal note pinned to a contact (``note --contact …``), shown in the profile."""

    __tablename__ = "contact_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    author_name: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CannedTemplate(Base):
    """A canned reply saved with ``template save NAME`` (configured ones live in the config file)."""

    __tablename__ = "canned_templates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CsatRating(Base):
    """A customer's 1-5 satisfaction rating of a closed conversation (the newest one counts)."""

    __tablename__ = "csat_ratings"
    __table_args__ = (Index("ix_csat_created", "created_at", "inbox"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    inbox: Mapped[str] = mapped_column(String(100), nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
