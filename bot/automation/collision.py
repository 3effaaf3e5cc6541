"""Collision detection before anything is sent to a customer.

Two checks, in order: the conversation is assigned to someone else (confirm, refuse or
allow, per inbox ``collision``), and a teammate replied within the inbox's
``collision_window`` (default 2 min): the second agent is told the first reply is
already sent and must confirm (``reply --confirm …``) to send theirs too.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.timespec import parse_duration
from bot.views import Reply
from storage import UnitOfWork
from storage.models import Agent, Conversation

__all__ = ["collision_refusal"]

_QUOTE = 120


def _shortened(text: str) -> str:
    """A teammate's reply as quoted in the hint: whole when short, else cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= _QUOTE:
        return flat
    return flat[:_QUOTE].rsplit(" ", 1)[0] + " …"


async def collision_refusal(
    uow: UnitOfWork,
    settings: Settings,
    agent: Agent,
    conv: Conversation,
    now: datetime,
    *,
    confirm: bool,
    confirm_hint: str,
) -> Reply | None:
    """Why this agent may not send to the customer right now (a Reply to show), or None when they may."""
    inbox = settings.inbox(conv.inbox)
    if conv.assignee_id not in (None, agent.id) and inbox.collision != "allow":
        holder = await uow.agents.agent(conv.assignee_id)
        if inbox.collision == "refuse":
            return Reply(f"#{conv.number} is assigned to {holder.name}; only they can reply.", ok=False)
        if not confirm:
            return Reply(
                f"#{conv.number} is assigned to {holder.name}. To reply anyway: {confirm_hint}",
                ok=False,
                needs_confirmation=True,
                conversation_number=conv.number,
            )
    window = parse_duration(inbox.collision_window)
    if confirm or not window:
        return None
    recent = await uow.messages.recent_reply_by_other(conv.id, agent.id, now - window)
    if recent is None:
        return None
    minutes = max(0, int((now - recent.created_at).total_seconds() // 60))
    ago = "just now" if minutes == 0 else f"{minutes} min ago"
    status = "already sent" if recent.delivery_status != "pending" else "already on its way"
    return Reply(
        f"{recent.author_name} replied to the customer of #{conv.number} {ago} — their reply is {status}: "
        f"“{_shortened(recent.text)}”. To send yours too: {confirm_hint}",
        ok=False,
        needs_confirmation=True,
        conversation_number=conv.number,
    )
