"""Privacy: export everything stored about a contact as JSON, and forget a contact.

Forgetting erases personal data in every table — the contact's name and identities
(addresses, phone numbers), message subjects, texts, originals, HTML, raw MIME and
metadata, attachments, delivery errors, outbox payloads, audit details and pinned
notes — keeps the anonymised conversations for the statistics, re-renders each card
without the customer, and queues the deletion of every mirrored thread message on
its surface: ``redact`` outbox rows, delivered with the outbox's one retry, pacing and
outage policy. The audit trail records that a contact was forgotten, with counts only.

Surfaces implement ``Surface.redact``: the local surface blanks the post,
Slack deletes it with ``chat.delete`` (the bot's own messages; ``chat:write`` covers
it), Discord with ``DELETE /channels/{thread}/messages/{id}``. A post split into
several platform messages is remembered as all of their ids, and each is deleted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.effects import Effects
from bot.ports.progress import ProgressCallback
from storage import UnitOfWork

__all__ = ["ForgetResult", "export_contact", "forget_contact"]


@dataclass(frozen=True)
class ForgetResult:
    """What ``forget_contact`` did: conversations anonymised, surface messages queued for deletion."""

    contact_id: int
    conversations: int
    redactions: int
    numbers: tuple[int, ...] = ()  # the conversations' numbers
    sent: dict[str, tuple[str, ...]] = field(default_factory=dict)  # channel -> external ids of replies


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_contact(
    uow: UnitOfWork, contact_id: int, progress: ProgressCallback | None = None
) -> dict[str, Any] | None:
    """All data stored about a contact, as JSON-ready data; None when there is no such contact.

    ``progress(done, total)`` is told after each conversation is gathered."""
    contact = await uow.contacts.contact_or_none(contact_id)
    if contact is None:
        return None
    conversations = await uow.conversations.conversations_of(contact.id)
    rows = await uow.privacy.export_rows([c.id for c in conversations])
    attachments: dict[int, list[dict[str, Any]]] = {}
    for a in rows["attachments"]:
        attachments.setdefault(a.message_id, []).append(
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "status": a.status,
                "data_base64": base64.b64encode(a.data).decode() if a.data is not None else None,
            }
        )
    ratings = {r.conversation_id: r.rating for r in rows["ratings"]}
    out_conversations = []
    for conv in conversations:
        out_conversations.append(
            {
                "number": conv.number,
                "inbox": conv.inbox,
                "channel": conv.channel,
                "status": conv.status,
                "priority": conv.priority,
                "subject": conv.subject,
                "labels": await uow.labels.labels_of(conv.id),
                "created_at": _iso(conv.created_at),
                "closed_at": _iso(conv.closed_at),
                "csat_rating": ratings.get(conv.id),
                "messages": [
                    {
                        "kind": m.kind,
                        "channel": m.channel,
                        "author": m.author_name,
                        "subject": m.subject,
                        "text": m.text,
                        "original_text": m.original_text,
                        "html": m.html,
                        "raw": m.raw.decode("utf-8", errors="replace") if m.raw is not None else None,
                        "external_id": m.external_id,
                        "delivery_status": m.delivery_status,
                        "created_at": _iso(m.created_at),
                        "attachments": attachments.get(m.id, []),
                    }
                    for m in rows["messages"]
                    if m.conversation_id == conv.id
                ],
                "audit": [
                    {"actor": e.actor, "action": e.action, "detail": e.detail, "at": _iso(e.created_at)}
                    for e in rows["audit"]
                    if e.conversation_id == conv.id
                ],
            }
        )
        if progress is not None:
            progress(len(out_conversations), len(conversations))
    return {
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "first_seen": _iso(contact.created_at),
            "identities": [{"kind": i.kind, "value": i.value} for i in contact.identities],
        },
        "pinned_notes": [
            {"author": n.author_name, "text": n.text, "at": _iso(n.created_at)}
            for n in await uow.contacts.contact_notes(contact.id)
        ],
        "conversations": out_conversations,
    }


async def forget_contact(
    uow: UnitOfWork,
    settings: Settings,
    contact_id: int,
    actor: str,
    now: datetime,
    progress: ProgressCallback | None = None,
) -> ForgetResult | None:
    """Erase a contact's personal data everywhere and queue surface deletions; None when unknown.

    ``progress(done, total)`` counts the conversations: the erasure of every table first, then
    each conversation's card re-rendered without the customer."""
    contact = await uow.contacts.contact_or_none(contact_id)
    if contact is None:
        return None
    conversations = await uow.conversations.conversations_of(contact.id)
    items = await uow.threads.mirrored_items([c.id for c in conversations])
    sent: dict[str, list[str]] = {}
    for channel, external_id in await uow.privacy.sent_external_ids([c.id for c in conversations]):
        sent.setdefault(channel, []).append(external_id)
    await uow.privacy.erase_contact(contact, now)
    effects = {conv.id: Effects(uow, conv, settings.inbox(conv.inbox), now) for conv in conversations}
    for conversation_id, surface, chat_channel, thread_id, item_id in items:
        await effects[conversation_id].redact(surface, chat_channel, thread_id, item_id)
    for done, conv in enumerate(conversations, 1):
        await effects[conv.id].card_changed()
        if progress is not None:
            progress(done, len(conversations))
    uow.audit.record(
        actor=actor,
        action="contact-forgotten",
        now=now,
        contact_id=contact.id,
        detail={"conversations": len(conversations), "surface_messages": len(items)},
    )
    return ForgetResult(
        contact.id,
        len(conversations),
        len(items),
        tuple(c.number for c in conversations),
        {channel: tuple(ids) for channel, ids in sent.items()},
    )
