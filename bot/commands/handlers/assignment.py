"""Who works a conversation: claim, assign (each followed by the hand-over summary), unassign; and an
agent's own availability (away, back)."""

from __future__ import annotations

import difflib

from bot.commands.context import Context
from bot.commands.handlers.handover import post_summary
from bot.commands.model import Assign, Away, Back, Claim, Unassign
from bot.views import Reply

__all__ = ["assign", "away", "back", "claim", "unassign"]


async def claim(ctx: Context, _: Claim) -> Reply:
    """Assign the conversation to the acting agent, unless a teammate holds it."""
    conv, agent = await ctx.conversation(), ctx.agent
    if conv.assignee_id == agent.id:
        return Reply(f"#{conv.number} is already yours.", conversation_number=conv.number)
    if conv.assignee_id is not None:
        holder = await ctx.uow.agents.agent(conv.assignee_id)
        return Reply(
            f"#{conv.number} is claimed by {holder.name}; ask them, or use assign @you to take it over.",
            ok=False,
            conversation_number=conv.number,
        )
    conv.assignee_id = agent.id
    await ctx.effects(conv).event(agent.name, "claimed", f"claimed by {agent.name}", {"agent": agent.key})
    if ctx.settings.summary.on_claim:
        await post_summary(ctx, conv)
    return Reply(f"You claimed #{conv.number}.", conversation_number=conv.number)


async def assign(ctx: Context, command: Assign) -> Reply:
    """Assign the conversation to the one teammate that ``command.who`` names."""
    conv, agent = await ctx.conversation(), ctx.agent
    who = command.who.lstrip("@").strip("<>").lstrip("@")
    matches = await ctx.uow.agents.find_agent(who)
    if not matches:
        team = await ctx.uow.agents.teammates()
        spoken = {word.lower(): name for name in team for word in (name, name.split()[0]) if word}
        close = difflib.get_close_matches(who.lower(), list(spoken), n=1, cutoff=0.6)
        hint = f"did you mean {spoken[close[0]]}? " if close else ""
        known = ", ".join(team) or "nobody yet"
        return Reply(f"No teammate '{command.who}'; {hint}the team: {known}.", ok=False)
    if len(matches) > 1:
        names = ", ".join(sorted(a.name for a in matches))
        return Reply(f"'{command.who}' matches several teammates ({names}); be more specific.", ok=False)
    target = matches[0]
    if conv.assignee_id == target.id:
        return Reply(f"#{conv.number} is already assigned to {target.name}.", conversation_number=conv.number)
    conv.assignee_id = target.id
    await ctx.effects(conv).event(
        agent.name, "assigned", f"assigned to {target.name} by {agent.name}", {"agent": target.key}
    )
    if ctx.settings.summary.on_claim:
        await post_summary(ctx, conv)
    return Reply(f"#{conv.number} assigned to {target.name}.", conversation_number=conv.number)


async def unassign(ctx: Context, _: Unassign) -> Reply:
    """Remove the assignee."""
    conv, agent = await ctx.conversation(), ctx.agent
    if conv.assignee_id is None:
        return Reply(f"#{conv.number} has no assignee.", conversation_number=conv.number)
    previous = await ctx.uow.agents.agent(conv.assignee_id)
    conv.assignee_id = None
    await ctx.effects(conv).event(
        agent.name,
        "unassigned",
        f"unassigned from {previous.name} by {agent.name}",
        {"agent": previous.key},
    )
    return Reply(f"#{conv.number} is unassigned.", conversation_number=conv.number)


async def away(ctx: Context, _: Away) -> Reply:
    """Mark the acting agent away: automatic assignment skips them."""
    agent = ctx.agent
    agent.away = True
    ctx.uow.audit.record(actor=agent.name, action="away", now=ctx.now(), detail={"agent": agent.key})
    return Reply("You are away: automatic assignment skips you until you type back.")


async def back(ctx: Context, _: Back) -> Reply:
    """Mark the acting agent available again."""
    agent = ctx.agent
    agent.away = False
    ctx.uow.audit.record(actor=agent.name, action="back", now=ctx.now(), detail={"agent": agent.key})
    return Reply("Welcome back: automatic assignment includes you again.")
