"""The personal queue: an agent's open conversations, the unassigned ones, and those breaching soon.

Shown by ``queue`` (any surface, as text), on Slack's App Home tab and in Discord's ``/queue``
and pinned queue message; all of them are built by ``build_queue``. "Breaching soon": open,
with an SLA due within ``BREACHING_WITHIN`` or already warned or breached.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.contacts import contact_address, customer_label
from bot.sla.clock import sla_due_of
from bot.views import QueueItem, QueueView
from storage import UnitOfWork
from storage.models import Agent, Conversation
from storage.repo_conversations import ConversationFilter

__all__ = ["BREACHING_WITHIN", "SECTION_LIMIT", "build_queue", "due_text", "queue_text"]

BREACHING_WITHIN = timedelta(hours=1)
"""How close an SLA due time makes a conversation "breaching soon"."""
SECTION_LIMIT = 15
"""The most conversations listed per section (the rest are counted)."""


async def _item(
    uow: UnitOfWork, settings: Settings, conv: Conversation, surface: str, names: dict[int, str]
) -> QueueItem:
    if conv.assignee_id is not None and conv.assignee_id not in names:
        names[conv.assignee_id] = (await uow.agents.agent(conv.assignee_id)).name
    contact = await uow.contacts.contact(conv.contact_id)
    thread = await uow.threads.thread_of(conv.id, surface)
    return QueueItem(
        number=conv.number,
        subject=conv.subject,
        customer=customer_label(contact.name, contact_address(settings, contact, conv.channel)),
        priority=conv.priority,
        assignee=names.get(conv.assignee_id) if conv.assignee_id is not None else None,
        sla_due=sla_due_of(conv),
        sla_state=conv.sla_state or "ok",
        chat_channel=thread.chat_channel if thread else None,
        thread_id=thread.thread_id if thread else None,
    )


async def build_queue(
    uow: UnitOfWork,
    agent: Agent | None,
    settings: Settings,
    now: datetime,
    surface: str,
    chat_channel: str | None = None,
) -> QueueView:
    """``agent``'s queue as ``surface`` shows it (threads of that surface; inboxes mirrored there).

    Without an agent it is the team's queue of ``chat_channel``'s inboxes (a pinned queue
    message): ``mine`` then holds every assigned open conversation.
    """
    inboxes = {
        name
        for name, inbox in settings.inboxes.items()
        if inbox.surface == surface and chat_channel in (None, inbox.chat_channel)
    }
    open_ = [
        c
        for c in await uow.conversations.list_conversations(ConversationFilter(status="open", limit=500))
        if c.inbox in inboxes
    ]
    names: dict[int, str] = {}
    soon = now + BREACHING_WITHIN

    def breaching(conv: Conversation) -> bool:
        due = sla_due_of(conv)
        return (conv.sla_state or "ok") != "ok" or (due is not None and due <= soon)

    async def items(convs: list[Conversation]) -> tuple[QueueItem, ...]:
        return tuple([await _item(uow, settings, c, surface, names) for c in convs])

    zone = next((settings.inbox(name).timezone for name in sorted(inboxes)), "UTC")
    assigned = [
        c for c in open_ if (c.assignee_id is not None if agent is None else c.assignee_id == agent.id)
    ]
    return QueueView(
        agent=agent.name if agent is not None else "",
        mine=await items(assigned),
        unassigned=await items([c for c in open_ if c.assignee_id is None]),
        breaching=await items(sorted((c for c in open_ if breaching(c)), key=_due_key)),
        timezone=zone,
    )


def _due_key(conv: Conversation) -> datetime:
    return sla_due_of(conv) or datetime.max.replace(tzinfo=conv.created_at.tzinfo)


def due_text(item: QueueItem, timezone: str) -> str:
    """``due 05 Jan 09:30 Europe/Berlin``: the SLA due time in the inbox's zone, or "" without one."""
    if item.sla_due is None:
        return ""
    return f"due {item.sla_due.astimezone(ZoneInfo(timezone)):%d %b %H:%M} {timezone}"


def _line(item: QueueItem, timezone: str) -> str:
    flag = f" · {item.priority}" if item.priority in ("urgent", "high") else ""
    who = f" · {item.assignee}" if item.assignee else ""
    due = f" · {due_text(item, timezone)}" if item.sla_due is not None else ""
    return f"#{item.number}{flag}{who} · {item.customer} · “{item.subject[:70]}”{due}"


def queue_text(view: QueueView) -> str:
    """The queue as plain text (the ``queue`` command's answer)."""
    parts = [f"Queue of {view.agent}"]
    for title, section in (
        ("Mine", view.mine),
        ("Unassigned", view.unassigned),
        ("Breaching soon", view.breaching),
    ):
        lines = [_line(item, view.timezone) for item in section[:SECTION_LIMIT]]
        if len(section) > SECTION_LIMIT:
            lines.append(f"… and {len(section) - SECTION_LIMIT} more")
        parts.append(f"{title} ({len(section)}):\n" + ("\n".join(lines) if lines else "none"))
    return "\n\n".join(parts)
