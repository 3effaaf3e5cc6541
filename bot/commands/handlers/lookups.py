"""Read-only answers that need no conversation: help, the labels in use, conversation lists, the queue."""

from __future__ import annotations

from bot.commands.context import Context
from bot.commands.help import help_text
from bot.commands.listing import describe_labels, describe_list
from bot.commands.model import Help, Labels, ListConversations, Queue
from bot.queue import build_queue, queue_text
from bot.views import Reply

__all__ = ["help_answer", "labels_in_use", "list_conversations", "personal_queue"]


async def help_answer(ctx: Context, command: Help) -> Reply:
    """Every command with a line each, or one command's usage."""
    return Reply(help_text(command.topic, ctx.prefix))


async def labels_in_use(ctx: Context, _: Labels) -> Reply:
    """The labels in use, most used first."""
    return Reply(describe_labels(await ctx.uow.labels.label_usage()))


async def list_conversations(ctx: Context, command: ListConversations) -> Reply:
    """``list mine|unassigned|open|snoozed|closed|all``."""
    return Reply(await describe_list(ctx.uow, command.which, ctx.agent))


async def personal_queue(ctx: Context, _: Queue) -> Reply:
    """The agent's queue on the surface they asked on: mine, unassigned, breaching soon."""
    view = await build_queue(ctx.uow, ctx.agent, ctx.settings, ctx.now(), ctx.where.surface)
    return Reply(queue_text(view))
