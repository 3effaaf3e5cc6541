"""Read-only answers: conversation lists, one conversation in full, label usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.commands.message_details import message_details
from storage import UnitOfWork
from storage.models import Agent, Conversation
from storage.repo_conversations import ConversationFilter

__all__ = ["describe_conversation", "describe_labels", "describe_list", "format_line"]


def format_line(conversation: Conversation, assignee: str | None = None) -> str:
    """One conversation as a listing line."""
    who = f" · {assignee}" if assignee else ""
    flag = f" · {conversation.priority}" if conversation.priority in ("urgent", "high") else ""
    return (
        f"#{conversation.number} · {conversation.status}{flag}{who} · {conversation.channel} · "
        f'{conversation.created_at:%Y-%m-%d} · "{conversation.subject[:70]}"'
    )


async def describe_list(uow: UnitOfWork, which: str, agent: Agent) -> str:
    """``list mine|unassigned|open|snoozed|closed|all`` as text."""
    filters = {
        "mine": ConversationFilter(status="open", assignee_id=agent.id),
        "unassigned": ConversationFilter(status="open", unassigned=True),
        "open": ConversationFilter(status="open"),
        "snoozed": ConversationFilter(status="snoozed"),
        "closed": ConversationFilter(status="closed"),
        "all": ConversationFilter(),
    }
    found = await uow.conversations.list_conversations(filters[which])
    if not found:
        return f"No {which} conversations."
    names: dict[int, str] = {}
    lines = []
    for conv in found:
        if conv.assignee_id is not None and conv.assignee_id not in names:
            names[conv.assignee_id] = (await uow.agents.agent(conv.assignee_id)).name
        lines.append(format_line(conv, names.get(conv.assignee_id) if conv.assignee_id else None))
    return f"{which} conversations ({len(found)}):\n" + "\n".join(lines)


def describe_labels(usage: list[tuple[str, int]]) -> str:
    """Label usage as text."""
    if not usage:
        return "No labels yet; add one with label +name."
    return "Labels: " + ", ".join(f"{name} ({count} open)" for name, count in usage)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def describe_conversation(uow: UnitOfWork, conversation: Conversation) -> dict[str, Any]:
    """A conversation with its contact, labels, messages and audit trail, as plain data."""
    contact = await uow.contacts.contact(conversation.contact_id)
    assignee = (await uow.agents.agent(conversation.assignee_id)).name if conversation.assignee_id else None
    return {
        "number": conversation.number,
        "inbox": conversation.inbox,
        "channel": conversation.channel,
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": conversation.subject,
        "assignee": assignee,
        "labels": await uow.labels.labels_of(conversation.id),
        "contact": {"name": contact.name, "identities": [f"{i.kind}:{i.value}" for i in contact.identities]},
        "created_at": conversation.created_at.isoformat(),
        "snoozed_until": _moment(conversation.snoozed_until),
        "closed_at": _moment(conversation.closed_at),
        "waiting_since": _moment(conversation.waiting_since),
        "first_response_at": _moment(conversation.first_response_at),
        "sla": {
            "state": conversation.sla_state,
            "first_response_due": _moment(conversation.first_response_due),
            "next_response_due": _moment(conversation.next_response_due),
            "resolution_due": _moment(conversation.resolution_due),
        },
        "messages": [
            {
                "kind": m.kind,
                "author": m.author_name,
                "text": m.text,
                "original_text": m.original_text
                if (m.original_text or "").strip() not in ("", m.text.strip())
                else None,
                "has_raw": m.raw is not None,
                "external_id": m.external_id,
                "delivery_status": m.delivery_status,
                "created_at": m.created_at.isoformat(),
                **await message_details(uow, m),
            }
            for m in await uow.messages.messages_of(conversation.id)
        ],
        "audit": [
            {"actor": e.actor, "action": e.action, "detail": e.detail, "at": e.created_at.isoformat()}
            for e in await uow.audit.trail(conversation.id)
        ],
    }
