"""A conversation's state: snooze, close, reopen, priority and labels."""

from __future__ import annotations

from bot import lifecycle
from bot.automation.csat import request_csat
from bot.commands.context import Context
from bot.commands.model import Close, LabelChange, Priority, Reopen, Snooze
from bot.timespec import TimeSpecError, parse_snooze
from bot.views import Reply

__all__ = ["change_labels", "close", "reopen", "set_priority", "snooze"]


async def snooze(ctx: Context, command: Snooze) -> Reply:
    """Hide the conversation until the time ``command.spec`` names, in the inbox's time zone."""
    conv, agent = await ctx.conversation(), ctx.agent
    inbox = ctx.settings.inbox(conv.inbox)
    try:
        until = parse_snooze(command.spec, ctx.now(), inbox.zone)
    except TimeSpecError as exc:
        return Reply(str(exc), ok=False)
    lifecycle.snooze(conv, inbox, until, ctx.now())
    local = until.astimezone(inbox.zone).strftime("%a %d %b %H:%M")
    await ctx.effects(conv).event(
        agent.name,
        "snoozed",
        f"snoozed until {local} ({inbox.timezone}) by {agent.name}",
        {"until": until.isoformat()},
    )
    return Reply(f"#{conv.number} snoozed until {local}.", conversation_number=conv.number)


async def close(ctx: Context, _: Close) -> Reply:
    """Close the conversation and ask the customer for a rating when so configured."""
    conv, agent = await ctx.conversation(), ctx.agent
    lifecycle.close(conv, ctx.settings.inbox(conv.inbox), ctx.now())
    await ctx.effects(conv).event(agent.name, "closed", f"closed by {agent.name}")
    await request_csat(ctx.uow, ctx.settings, conv, ctx.now())  # one-question rating
    return Reply(f"#{conv.number} closed.", conversation_number=conv.number)


async def reopen(ctx: Context, _: Reopen) -> Reply:
    """Reopen a closed or snoozed conversation."""
    conv, agent = await ctx.conversation(), ctx.agent
    lifecycle.reopen(conv, ctx.settings.inbox(conv.inbox), ctx.now())
    await ctx.effects(conv).event(agent.name, "reopened", f"reopened by {agent.name}")
    return Reply(f"#{conv.number} reopened.", conversation_number=conv.number)


async def set_priority(ctx: Context, command: Priority) -> Reply:
    """Set the conversation's priority."""
    conv, agent = await ctx.conversation(), ctx.agent
    if conv.priority == command.level:
        return Reply(f"#{conv.number} is already {command.level}.", conversation_number=conv.number)
    conv.priority = command.level
    await ctx.effects(conv).event(
        agent.name,
        "prioritised",
        f"priority {command.level} by {agent.name}",
        {"priority": command.level},
    )
    return Reply(f"#{conv.number} priority {command.level}.", conversation_number=conv.number)


async def change_labels(ctx: Context, command: LabelChange) -> Reply:
    """Add and remove labels; new labels are created."""
    conv, agent, uow = await ctx.conversation(), ctx.agent, ctx.uow
    added, removed = [], []
    for name in command.add:
        label = await uow.labels.label(name, create=True)
        assert label is not None
        if await uow.labels.set_label(conv, label.id, True):
            added.append(label.name)
    for name in command.remove:
        label = await uow.labels.label(name, create=False)
        if label is not None and await uow.labels.set_label(conv, label.id, False):
            removed.append(label.name)
    if not added and not removed:
        return Reply(f"#{conv.number}: labels unchanged.", conversation_number=conv.number)
    change = " ".join([f"+{n}" for n in added] + [f"-{n}" for n in removed])
    await ctx.effects(conv).event(
        agent.name, "labelled", f"labels {change} by {agent.name}", {"added": added, "removed": removed}
    )
    return Reply(f"#{conv.number}: labels {change}.", conversation_number=conv.number)
