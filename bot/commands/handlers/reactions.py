"""Reactions as commands: the emoji looked up in the surface's ``[reactions]`` map, then that command.

The reaction is audited (who, which emoji, which command) in the same transaction as the
command's own effects, so the thread shows "claimed by Alice" and the audit trail says it was
Alice's 👀. A removed reaction does nothing unless ``on_removal = "undo"``: then a claim is
released (when the remover holds it), a close reopened, a priority set back to normal and a
label change reversed; a removed reopen, unassign, snooze or summary does nothing. The message
reacted to is the card or any message of the thread: found by the thread the surface names,
else by the card's or a posted thread message's id (``Location.item_id``). A reaction on a
message of no conversation is ignored without an answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.commands.context import Context
from bot.commands.grammar import CommandError, parse_command
from bot.commands.model import Claim, Close, Command, LabelChange, Priority, Reaction, Reopen, Unassign
from bot.domain import Status
from bot.settings.reactions import emoji_key
from bot.views import Reply

__all__ = ["react"]


async def react(
    table: Mapping[type, Callable[[Context, Any], Awaitable[Reply]]], ctx: Context, reaction: Reaction
) -> Reply:
    """Run the command ``reaction``'s emoji stands for (``table``: the handler of each command)."""
    settings = ctx.settings.reactions.for_surface(ctx.where.surface)
    keys = [emoji_key(reaction.emoji)] + ([emoji_key(reaction.short_name)] if reaction.short_name else [])
    line = next((settings.map[k] for k in keys if k in settings.map), None)
    line = line if ctx.settings.reactions.enabled else None
    if line is None or (reaction.removed and settings.on_removal == "ignore"):
        return Reply("")  # an ordinary reaction: nothing to do
    try:
        command: Command = parse_command(line).command
    except CommandError as exc:
        return Reply(f"The reaction {reaction.emoji} runs '{line}', which is not a command: {exc}", ok=False)
    conv = await ctx.find_conversation()
    if conv is None and ctx.where.item_id is not None:
        conv = await ctx.uow.conversations.conversation_by_item(ctx.where.surface, ctx.where.item_id)
    if conv is None:
        return Reply("")  # a reaction on a message outside every conversation: not ours to act on
    ctx = dataclasses.replace(ctx, number=conv.number)
    if reaction.removed:
        undo = await _undo(ctx, command)
        if undo is None:
            return Reply("", conversation_number=conv.number)
        command = undo
    ctx.uow.audit.record(
        actor=ctx.agent.name,
        action="reaction",
        now=ctx.now(),
        conversation=conv,
        detail={
            "agent": ctx.agent.key,
            "surface": ctx.where.surface,
            "emoji": reaction.emoji,
            "command": line,
            "removed": reaction.removed,
        },
    )
    return await table[type(command)](ctx, command)


async def _undo(ctx: Context, command: Command) -> Command | None:
    """The command that takes back ``command``, or None when there is nothing to take back."""
    conv = await ctx.conversation()
    if isinstance(command, Claim):
        return Unassign() if conv.assignee_id == ctx.agent.id else None
    if isinstance(command, Close):
        return Reopen() if conv.status == Status.CLOSED else None
    if isinstance(command, Priority):
        return Priority("normal")
    if isinstance(command, LabelChange):
        return LabelChange(command.remove, command.add)
    return None
