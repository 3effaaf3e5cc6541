"""Agents editing or deleting their chat messages in a thread: the stored note or held reply follows.

A note typed in the thread is edited (the previous text kept in ``meta["edits"]``) or
deleted in storage too. A reply typed as ``!reply …`` and edited while inside its undo
window (``bot.outbox.undo``) goes out with the edited text; edited after it left, the
thread is told the customer has the first version. Deleting a held reply's message takes
it back like ``undo``. Messages are found by ``Message.chat_ref``; an edit by anyone but the
author changes nothing. Each call is one transaction that also finishes its intake journal
entry, like a command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.clock import Clock
from bot.commands.grammar import CommandError, is_command, parse_command
from bot.commands.model import Actor, ReplyToCustomer
from bot.config import Settings
from bot.domain import MessageKind
from bot.effects import Effects
from bot.outbox.undo import revise_held, undo_latest
from storage import Store, UnitOfWork
from storage.models import Message

__all__ = ["AgentEdits"]

log = logging.getLogger(__name__)


class AgentEdits:
    """Applies edits and deletions of agents' thread messages to what Threadline stored of them."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.prefix = settings.threadline.command_prefix

    async def edited(self, actor: Actor, message_ref: str, text: str, journal_id: int | None = None) -> str:
        """The chat message ``message_ref`` of ``actor`` now reads ``text``; returns what changed."""
        async with self.store.transaction() as uow:
            outcome = "ignored"
            message = await uow.messages.message_by_chat_ref(f"{actor.surface}:{message_ref}")
            agent = await uow.agents.agent_by_identity(actor.surface, actor.user_id)
            if message is not None and agent is not None and message.author_agent_id == agent.id:
                outcome = await self._edit(uow, message, text)
            await self._finish(uow, journal_id)
        self._done("edited", outcome)
        return outcome

    async def deleted(self, surface: str, message_ref: str, journal_id: int | None = None) -> str:
        """The chat message ``message_ref`` was deleted (by its author or a moderator); says what changed."""
        async with self.store.transaction() as uow:
            outcome = "ignored"
            message = await uow.messages.message_by_chat_ref(f"{surface}:{message_ref}")
            if message is not None and message.kind == MessageKind.NOTE:
                conversation = await uow.conversations.conversation(message.conversation_id)
                uow.audit.record(
                    actor=message.author_name or "agent",
                    action="note deleted",
                    now=self.clock.now(),
                    conversation=conversation,
                )
                await uow.messages.delete_message(message)
                outcome = "note deleted"
            elif message is not None and message.kind == MessageKind.OUTBOUND:
                effects = await self._effects(uow, message)
                taken = await undo_latest(uow, effects, message.author_name or "agent", message.id)
                outcome = "reply undone" if taken is not None else "ignored"
            await self._finish(uow, journal_id)
        self._done("deleted", outcome)
        return outcome

    async def _edit(self, uow: UnitOfWork, message: Message, text: str) -> str:
        now = self.clock.now()
        if message.kind == MessageKind.NOTE:
            if text.strip() == message.text:
                return "ignored"
            edits = [*(message.meta or {}).get("edits", []), {"text": message.text, "at": now.isoformat()}]
            message.meta = {**(message.meta or {}), "edits": edits}
            message.text = text.strip()
            conversation = await uow.conversations.conversation(message.conversation_id)
            uow.audit.record(
                actor=message.author_name or "agent", action="note edited", now=now, conversation=conversation
            )
            return "note edited"
        if message.kind != MessageKind.OUTBOUND:
            return "ignored"
        revised = self._reply_text(text)
        if revised is None or revised == message.text:
            return "ignored"
        effects = await self._effects(uow, message)
        if await revise_held(uow, message, revised):
            uow.audit.record(
                actor=message.author_name or "agent",
                action="reply edited",
                now=now,
                conversation=effects.conversation,
            )
            await effects.notice(
                f"Reply by {message.author_name or 'an agent'} edited; the customer gets the new text."
            )
            return "reply edited"
        await effects.notice(
            f"Reply by {message.author_name or 'an agent'} had already left; "
            "the customer has the first version."
        )
        return "too late"

    def _reply_text(self, text: str) -> str | None:
        """The reply an edited ``!reply …`` line now says, or None when it is no reply any more."""
        if not is_command(text, self.prefix):
            return None
        try:
            command = parse_command(text, self.prefix).command
        except CommandError:
            return None
        return command.text if isinstance(command, ReplyToCustomer) else None

    async def _effects(self, uow: UnitOfWork, message: Message) -> Effects:
        conversation = await uow.conversations.conversation(message.conversation_id)
        return Effects(uow, conversation, self.settings.inbox(conversation.inbox), self.clock.now())

    async def _finish(self, uow: UnitOfWork, journal_id: int | None) -> None:
        if journal_id is not None:  # done in the transaction of the edit's effect
            await uow.journal.finish([journal_id], self.clock.now())

    def _done(self, what: str, outcome: str) -> None:
        if outcome != "ignored":
            self.notify()
        log.info("agent message %s", what, extra={"outcome": outcome})
