"""What a command handler works with: one transaction, the acting agent, where it was typed, the time.

A handler is a plain function ``async (ctx, command) -> Reply``; one that acts on a
conversation asks ``await ctx.conversation()``, which ends the command with the right
answer when none is named or in focus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.commands.model import Location
from bot.config import Settings
from bot.effects import Effects
from bot.views import Reply
from storage import UnitOfWork
from storage.models import Agent, Conversation

__all__ = ["Context", "Refused", "locate"]


class Refused(Exception):
    """Ends a command early with ``reply`` (an unsuccessful answer to the agent)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


async def locate(uow: UnitOfWork, number: int | None, where: Location) -> Conversation | None:
    """The conversation named by ``#number``, else the one in focus, else the one mirrored in the thread."""
    if number is not None or where.number is not None:
        return await uow.conversations.conversation_by_number(number if number is not None else where.number)  # type: ignore[arg-type]
    if where.thread_id is not None:
        return await uow.conversations.conversation_by_thread(where.surface, where.thread_id)
    return None


@dataclass
class Context:
    """One command being handled, inside its transaction."""

    uow: UnitOfWork
    agent: Agent
    settings: Settings
    clock: Clock
    number: int | None
    where: Location
    handovers: list[int] = field(default_factory=list)  # model-drafted summaries to post after the commit

    @property
    def prefix(self) -> str:
        """The command prefix of this installation (``!``)."""
        return self.settings.threadline.command_prefix

    @property
    def chat_ref(self) -> str | None:
        """The chat message the command was typed as (``slack:1712.0001``), kept on what it stores."""
        return f"{self.where.surface}:{self.where.message_ref}" if self.where.message_ref else None

    def now(self) -> datetime:
        """The current time of the injected clock."""
        return self.clock.now()

    def effects(self, conversation: Conversation) -> Effects:
        """The effects writer for ``conversation`` at the current time."""
        return Effects(self.uow, conversation, self.settings.inbox(conversation.inbox), self.clock.now())

    async def find_conversation(self) -> Conversation | None:
        """The conversation the command names or was typed in, or None."""
        return await locate(self.uow, self.number, self.where)

    async def conversation(self) -> Conversation:
        """The conversation the command acts on; refuses the command when there is none."""
        found = await self.find_conversation()
        if found is not None:
            return found
        named = self.number if self.number is not None else self.where.number
        if named is not None:
            raise Refused(Reply(f"No conversation #{named}.", ok=False))
        raise Refused(Reply("Use this inside a conversation thread, or name one: #42.", ok=False))
