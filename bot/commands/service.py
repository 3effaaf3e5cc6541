"""The command service: one command from an agent, checked and applied in one transaction.

Surfaces call ``CommandService.handle`` with the agent, the text and where it was
typed (or ``execute`` with a command they built from a button); the answer is a
``Reply`` shown to that agent. What the thread should see (events, notes, replies,
the card) goes through the outbox.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.commands.context import Context, Refused, locate
from bot.commands.edits import AgentEdits
from bot.commands.grammar import CommandError, is_command, parse_command
from bot.commands.handlers import HANDLERS
from bot.commands.model import Actor, Location, Note, ParsedCommand, ReplyToCustomer
from bot.config import Settings
from bot.domain import DomainError
from bot.handover import HandoverService
from bot.ports.inbound import InboundAttachment
from bot.queue import build_queue
from bot.runtime import metrics
from bot.views import QueueView, Reply
from storage import Conflict, Store, UnitOfWork
from storage.models import Agent

__all__ = ["CommandService", "Execute"]

log = logging.getLogger(__name__)

Execute = Callable[[Actor, ParsedCommand, Location], Awaitable[Reply]]
"""``CommandService.execute`` as surfaces hold it: run a command they built (a reaction)."""


class CommandService:
    """Parses and executes agent commands against the core."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        notify: Callable[[], None],
        handover: HandoverService | None = None,
    ) -> None:
        self.store = store
        self.handover = handover  # posts model-drafted summaries after a command's commit
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.prefix = settings.threadline.command_prefix
        self.edits = AgentEdits(store, settings, clock, notify)  # agents editing their thread messages

    @metrics.timed_by(metrics.COMMAND_SECONDS, lambda reply: reply.ok)  # command latency metric
    async def handle(
        self,
        actor: Actor,
        text: str,
        where: Location,
        *,
        prefixed: bool = True,
        files: tuple[InboundAttachment, ...] = (),
    ) -> Reply:
        """Run one command line; a plain (unprefixed) thread message becomes a note when so configured.

        ``files`` attached to a ``reply`` go to the customer with it (within the channel's limits).
        """
        if prefixed and not is_command(text, self.prefix):
            return await self.plain_message(actor, text, where)
        try:
            parsed = parse_command(text, self.prefix if prefixed else "")
        except CommandError as exc:
            return Reply(str(exc), ok=False)
        if files and isinstance(parsed.command, ReplyToCustomer):
            parsed = dataclasses.replace(parsed, command=dataclasses.replace(parsed.command, files=files))
        return await self.execute(actor, parsed, where)

    async def plain_message(self, actor: Actor, text: str, where: Location) -> Reply:
        """A thread message that is not a command: an internal note, or ignored, per inbox."""
        async with self.store.transaction() as uow:
            conversation = await locate(uow, None, where)
            if conversation is None:
                return Reply(f"Not in a conversation: name one (#42) or type {self.prefix}help.", ok=False)
            if self.settings.inbox(conversation.inbox).thread_messages == "ignore":
                return Reply("", ok=True, conversation_number=conversation.number)
        return await self.execute(actor, ParsedCommand(Note(text.strip())), where)

    async def execute(self, actor: Actor, parsed: ParsedCommand, where: Location) -> Reply:
        """Execute a parsed command; refusals come back as an unsuccessful Reply, never an exception."""
        command = parsed.command
        if isinstance(command, Note) and where.typed_in_thread and where.thread_id is not None:
            command = dataclasses.replace(command, shown=True)
        try:
            async with self.store.transaction() as uow:
                agent = await self._agent(uow, actor)
                if agent is None:
                    return Reply(
                        "You are not a member of this support team; ask an admin to add you.", ok=False
                    )
                context = Context(uow, agent, self.settings, self.clock, parsed.number, where)
                reply = await HANDLERS[type(command)](context, command)
                if where.journal_id is not None:  # done in the transaction of the command's effect
                    await uow.journal.finish([where.journal_id], self.clock.now())
        except Refused as refused:
            return refused.reply
        except DomainError as exc:
            return Reply(str(exc), ok=False, conversation_number=parsed.number)
        if self.handover is not None:
            for number in context.handovers:
                self.handover.spawn(number)
        if reply.ok:
            self.notify()
            log.info(
                "command done",
                extra={
                    "command": type(command).__name__.lower(),
                    "conversation": reply.conversation_number,
                    "agent": agent.key,
                },
            )
        return reply

    async def queue(self, actor: Actor, surface: str) -> QueueView | None:
        """``actor``'s personal queue on ``surface`` (App Home, a pinned queue message), or None when
        they are not an agent."""
        async with self.store.transaction() as uow:
            agent = await self._agent(uow, actor)
            if agent is None:
                return None
            return await build_queue(uow, agent, self.settings, self.clock.now(), surface)

    async def team_queue(self, surface: str, chat_channel: str) -> QueueView:
        """The team's queue of the inboxes mirrored into ``chat_channel``: assigned, unassigned, breaching."""
        async with self.store.transaction() as uow:
            return await build_queue(uow, None, self.settings, self.clock.now(), surface, chat_channel)

    async def register(self, actor: Actor) -> None:
        """Make ``actor`` an agent now (when auto-registration is on), so teammates can pick them."""
        try:
            async with self.store.transaction() as uow:
                await self._agent(uow, actor)
        except Conflict:  # registered by a concurrent event first
            pass

    async def _agent(self, uow: UnitOfWork, actor: Actor) -> Agent | None:
        agent = await uow.agents.agent_by_identity(actor.surface, actor.user_id)
        if agent is None and self.settings.threadline.auto_register_agents:
            key = f"{actor.surface}:{actor.user_id}"
            agent = await uow.agents.upsert_agent(
                key, actor.display_name, actor.email, {actor.surface: actor.user_id}, self.clock.now()
            )
        return agent
