"""Queries and writes of automation and teamwork: assignment load, contact notes, canned
templates, CSAT ratings, contact merge, export and forget, and the mirrored posts a forget deletes.

Used inside a repository's unit of work: ``Automation(repo)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, inspect, select, update

from storage.models import (
    Agent,
    Attachment,
    AuditEvent,
    CannedTemplate,
    Contact,
    ContactIdentity,
    ContactNote,
    Conversation,
    Counter,
    CsatRating,
    Message,
    OutboxRow,
    ThreadRow,
)
from storage.repository import Repository

__all__ = ["ERASED", "Automation"]

ERASED = "[erased]"
"""What erased personal text is replaced with."""


class Automation:
    """Automation queries on one repository's session."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.session = repo.session

    # --- assignment --------------------------------------------------------------------------

    async def agents_by_keys(self, keys: list[str]) -> list[Agent]:
        """The agents with these keys (unknown keys are left out)."""
        return list((await self.session.execute(select(Agent).where(Agent.key.in_(keys)))).scalars().all())

    async def open_counts(self, agent_ids: list[int]) -> dict[int, int]:
        """How many not-closed conversations each agent has (agents with none are 0), counting the
        changes of this unit of work that are not flushed yet (an ingest batch flushes at its end)."""
        counts = dict.fromkeys(agent_ids, 0)
        if agent_ids:
            stmt = (
                select(Conversation.assignee_id, func.count(Conversation.id))
                .where(Conversation.assignee_id.in_(agent_ids), Conversation.status != "closed")
                .group_by(Conversation.assignee_id)
            )
            for agent_id, count in (await self.session.execute(stmt)).all():
                if agent_id is not None:
                    counts[int(agent_id)] = int(count)
            for conversation in (*self.session.new, *self.session.dirty):
                if isinstance(conversation, Conversation):
                    for agent_id, change in _unflushed_open(conversation):
                        if agent_id in counts:
                            counts[agent_id] += change
        return counts

    async def pointer(self, name: str) -> int | None:
        """A stored position (the last round-robin pick of a team), locked for this transaction."""
        stmt = select(Counter.value).where(Counter.name == name)
        if self.repo.dialect == "postgresql":
            stmt = stmt.with_for_update()
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def set_pointer(self, name: str, value: int) -> None:
        """Store a position."""
        result = await self.session.execute(update(Counter).where(Counter.name == name).values(value=value))
        if result.rowcount == 0:
            self.session.add(Counter(name=name, value=value))
            await self.session.flush()

    async def reroute(self, conversation_id: int, old: str, new: str) -> None:
        """Send a conversation's untried outbox rows for ``old`` to ``new`` instead (a routed inbox)."""
        await self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.conversation_id == conversation_id,
                OutboxRow.destination == old,
                OutboxRow.status == "pending",
            )
            .values(destination=new)
        )

    async def recent_reply_by_other(
        self, conversation_id: int, agent_id: int, since: datetime
    ) -> Message | None:
        """The newest reply a *different* agent sent (or queued) to the customer since ``since``."""
        stmt = (
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.kind == "outbound",
                Message.author_agent_id.is_not(None),
                Message.author_agent_id != agent_id,
                Message.created_at >= since,
                Message.delivery_status != "failed",
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()

    # --- contact notes and templates -------------------------------------------------------

    def add_contact_note(self, contact_id: int, author: str, text: str, now: datetime) -> None:
        """Pin a note to a contact."""
        self.session.add(ContactNote(contact_id=contact_id, author_name=author, text=text, created_at=now))

    async def contact_notes(self, contact_id: int) -> list[ContactNote]:
        """A contact's pinned notes, oldest first."""
        stmt = select(ContactNote).where(ContactNote.contact_id == contact_id).order_by(ContactNote.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def saved_template(self, name: str) -> CannedTemplate | None:
        """A saved canned reply by name (case-insensitive)."""
        stmt = select(CannedTemplate).where(CannedTemplate.key == name.lower())
        return (await self.session.execute(stmt)).scalars().first()

    async def saved_templates(self) -> list[CannedTemplate]:
        """Every saved canned reply, by name."""
        stmt = select(CannedTemplate).order_by(CannedTemplate.key)
        return list((await self.session.execute(stmt)).scalars().all())

    async def save_template(self, name: str, body: str, author: str, now: datetime) -> bool:
        """Save (or replace) a canned reply; True when it was new."""
        found = await self.saved_template(name)
        if found is None:
            self.session.add(
                CannedTemplate(key=name.lower(), name=name, body=body, created_by=author, created_at=now)
            )
            return True
        found.body, found.created_by, found.created_at = body, author, now
        return False

    # --- csat --------------------------------------------------------------------------------

    async def record_rating(self, conversation: Conversation, rating: int, now: datetime) -> None:
        """Store a conversation's rating (a later answer replaces an earlier one)."""
        stmt = select(CsatRating).where(CsatRating.conversation_id == conversation.id)
        found = (await self.session.execute(stmt)).scalars().first()
        if found is None:
            self.session.add(
                CsatRating(
                    conversation_id=conversation.id, inbox=conversation.inbox, rating=rating, created_at=now
                )
            )
        else:
            found.rating, found.created_at = rating, now

    async def rating_of(self, conversation_id: int) -> int | None:
        """A conversation's rating, if any."""
        stmt = select(CsatRating.rating).where(CsatRating.conversation_id == conversation_id)
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def ratings(self, since: datetime, until: datetime) -> list[tuple[str, int]]:
        """(inbox, rating) of ratings given in [since, until) — for reports."""
        stmt = select(CsatRating.inbox, CsatRating.rating).where(
            CsatRating.created_at >= since, CsatRating.created_at < until
        )
        return [(str(i), int(r)) for i, r in (await self.session.execute(stmt)).all()]

    async def csat_request(self, conversation_id: int) -> Message | None:
        """The newest CSAT question sent in a conversation."""
        stmt = (
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.kind == "outbound")
            .order_by(Message.id.desc())
            .limit(20)
        )
        for message in (await self.session.execute(stmt)).scalars().all():
            if (message.meta or {}).get("csat"):
                return message
        return None

    # --- contacts: merge, export, forget ------------------------------------------------------

    async def contact_or_none(self, contact_id: int) -> Contact | None:
        """A contact by id, or None."""
        stmt = select(Contact.id).where(Contact.id == contact_id)
        if (await self.session.execute(stmt)).first() is None:
            return None
        return await self.repo.contact(contact_id)

    async def merge_contacts(self, keep: Contact, gone: Contact) -> list[int]:
        """Move everything of ``gone`` to ``keep`` and delete ``gone``; the moved conversation ids."""
        moved = list(
            (await self.session.execute(select(Conversation.id).where(Conversation.contact_id == gone.id)))
            .scalars()
            .all()
        )
        await self.session.execute(
            update(Conversation).where(Conversation.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(ContactIdentity).where(ContactIdentity.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(ContactNote).where(ContactNote.contact_id == gone.id).values(contact_id=keep.id)
        )
        await self.session.execute(
            update(AuditEvent).where(AuditEvent.contact_id == gone.id).values(contact_id=keep.id)
        )
        if not keep.name and gone.name:
            keep.name = gone.name
        if gone.created_at < keep.created_at:
            keep.created_at = gone.created_at
        await self.session.flush()
        await self.session.execute(delete(Contact).where(Contact.id == gone.id))
        return [int(i) for i in moved]

    async def conversations_of(self, contact_id: int) -> list[Conversation]:
        """All of a contact's conversations, oldest first."""
        stmt = select(Conversation).where(Conversation.contact_id == contact_id).order_by(Conversation.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def export_rows(self, conversation_ids: list[int]) -> dict[str, list[Any]]:
        """Messages, attachments, audit events and ratings of conversations, for an export."""
        ids = conversation_ids or [-1]
        messages = list(
            (
                await self.session.execute(
                    select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id)
                )
            )
            .scalars()
            .all()
        )
        message_ids = [m.id for m in messages] or [-1]
        attachments = list(
            (await self.session.execute(select(Attachment).where(Attachment.message_id.in_(message_ids))))
            .scalars()
            .all()
        )
        audit = list(
            (
                await self.session.execute(
                    select(AuditEvent).where(AuditEvent.conversation_id.in_(ids)).order_by(AuditEvent.id)
                )
            )
            .scalars()
            .all()
        )
        ratings = list(
            (await self.session.execute(select(CsatRating).where(CsatRating.conversation_id.in_(ids))))
            .scalars()
            .all()
        )
        return {"messages": messages, "attachments": attachments, "audit": audit, "ratings": ratings}

    async def sent_external_ids(self, conversation_ids: Sequence[int]) -> list[tuple[str, str]]:
        """(channel, external id) of every reply sent in these conversations (Message-ID, wamid)."""
        stmt = select(Message.channel, Message.external_id).where(
            Message.conversation_id.in_(list(conversation_ids) or [-1]),
            Message.kind == "outbound",
            Message.external_id.is_not(None),
        )
        rows = (await self.session.execute(stmt)).all()
        return [(str(channel), str(external)) for channel, external in rows]

    async def erase_contact(self, contact: Contact, now: datetime) -> list[int]:
        """Erase a contact's personal data in every table; the ids of its conversations (kept, anonymised)."""
        ids = [c.id for c in await self.conversations_of(contact.id)]
        scope = ids or [-1]
        message_ids = select(Message.id).where(Message.conversation_id.in_(scope))
        await self.session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
        for message in (
            await self.session.execute(select(Message).where(Message.conversation_id.in_(scope)))
        ).scalars():
            message.text = ERASED
            message.original_text = message.html = message.raw = None
            message.subject = None
            message.meta = {"erased": True} if message.meta else None
            message.delivery_error = None
            if message.kind == "inbound":
                message.author_name = ERASED
                if message.external_id:
                    digest = hashlib.sha256(message.external_id.encode()).hexdigest()[:40]
                    message.external_id = f"erased:{digest}"
        await self.session.execute(
            update(Conversation).where(Conversation.id.in_(scope)).values(subject=ERASED)
        )
        await self.session.execute(
            update(AuditEvent)
            .where((AuditEvent.conversation_id.in_(scope)) | (AuditEvent.contact_id == contact.id))
            .values(detail={"erased": True})
        )
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.conversation_id.in_(scope)).values(payload={}, last_error=None)
        )
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.conversation_id.in_(scope), OutboxRow.status == "pending")
            .values(status="cancelled", last_error="cancelled: the contact was forgotten")
        )
        await self.session.execute(delete(ContactNote).where(ContactNote.contact_id == contact.id))
        await self.session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact.id))
        contact.name = None
        await self.session.flush()
        return ids

    # --- mirrored posts (a forget deletes them) --------------------------------------------------

    async def mirrored_items(self, conversation_ids: list[int]) -> list[tuple[int, str, str, str, str]]:
        """(conversation id, surface, chat channel, thread id, item id) of every message posted into
        these threads."""
        ids = conversation_ids or [-1]
        threads = {
            (t.conversation_id, t.surface): t
            for t in (await self.session.execute(select(ThreadRow).where(ThreadRow.conversation_id.in_(ids))))
            .scalars()
            .all()
        }
        stmt = select(OutboxRow.conversation_id, OutboxRow.destination, OutboxRow.external_ref).where(
            OutboxRow.conversation_id.in_(ids),
            OutboxRow.destination.like("surface:%"),
            OutboxRow.kind.in_(["post", "notice"]),
            OutboxRow.status == "done",
            OutboxRow.external_ref.is_not(None),
        )
        items = []
        for conversation_id, destination, ref in (await self.session.execute(stmt)).all():
            surface = str(destination).partition(":")[2]
            thread = threads.get((conversation_id, surface))
            if thread is not None and ref != thread.card_id:
                items.append((conversation_id, surface, thread.chat_channel, thread.thread_id, str(ref)))
        return items


def _value_before(conversation: Conversation, attribute: str) -> Any:
    """The flushed value of an attribute of a stored conversation."""
    history = inspect(conversation).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


def _unflushed_open(conversation: Conversation) -> list[tuple[int, int]]:
    """How a conversation's unflushed changes move open counts: (agent id, +1 or -1) pairs."""
    moves = []
    if conversation.assignee_id is not None and conversation.status != "closed":
        moves.append((conversation.assignee_id, 1))
    if inspect(conversation).persistent:
        before = _value_before(conversation, "assignee_id")
        if before is not None and _value_before(conversation, "status") != "closed":
            moves.append((int(before), -1))
    return moves
