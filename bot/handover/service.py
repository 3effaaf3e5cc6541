"""Model-drafted hand-over summaries, made after the command's commit (never inside a transaction).

A command that wants a summary while ``[summary] llm = true`` names the conversation in
``Context.handovers``; after its commit ``CommandService`` hands it to ``HandoverService.spawn``.
The facts are read in one short transaction, the model is asked (with ``timeout_seconds``), and
the summary is written in another as a note by Threadline, shown through the outbox; a proposed
reply is stored as a note carrying ``meta["draft_reply"]`` and shown to the team, never sent: ``draft send``
sends it. Any model failure posts the deterministic summary instead. A crash between the
command's commit and the summary loses only the summary (``!summary`` asks again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.domain import MessageKind
from bot.effects import Effects
from bot.handover.facts import excerpt, gather
from bot.handover.text import render
from bot.ports.drafting import Draft, Drafter, DraftError, DraftRequest
from storage import Store

__all__ = ["DRAFT_META", "HandoverService", "show_note"]

log = logging.getLogger(__name__)
DRAFT_META = "draft_reply"
"""The note ``meta`` key holding a proposed reply (``draft send`` sends it)."""
_TRANSCRIPT = 12


async def show_note(effects: Effects, text: str, **meta: Any) -> None:
    """Store ``text`` as a note by Threadline and show it in the thread (summaries and reply drafts)."""
    note = effects.uow.messages.new_message(
        effects.conversation,
        MessageKind.NOTE,
        effects.now,
        author_name="Threadline",
        text=text,
        meta={"handover": True, **meta},
    )
    await effects.show(note)


class HandoverService:
    """Posts hand-over summaries drafted by ``drafter``, falling back to the deterministic one."""

    def __init__(
        self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None], drafter: Drafter
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.drafter = drafter
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, number: int) -> None:
        """Post the summary of conversation ``number`` in the background (``settle`` waits for it)."""
        task = asyncio.create_task(self._guarded(number), name=f"handover-{number}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until every summary asked for is posted (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _guarded(self, number: int) -> None:
        try:
            await self.post(number)
        except Exception:
            log.exception("hand-over summary failed", extra={"conversation": number})

    async def post(self, number: int) -> None:
        """Ask the model for conversation ``number``'s summary and post it (or the deterministic one)."""
        async with self.store.transaction() as uow:
            conversation = await uow.conversations.conversation_by_number(number)
            if conversation is None:
                return
            facts = await gather(uow, self.settings, conversation, self.clock.now())
            messages = await uow.messages.messages_of(
                conversation.id, [MessageKind.INBOUND, MessageKind.OUTBOUND]
            )
        transcript = tuple(
            (
                "customer" if m.kind == MessageKind.INBOUND else (m.author_name or "agent"),
                excerpt(m.text, 2000),
            )
            for m in messages[-_TRANSCRIPT:]
        )
        fallback = render(facts)
        request = DraftRequest(fallback, transcript, self.settings.summary.draft_reply)
        draft: Draft | None
        try:
            draft = await asyncio.wait_for(self.drafter.draft(request), self.settings.summary.timeout_seconds)
        except (DraftError, TimeoutError) as exc:
            log.warning(
                "summary model failed; deterministic summary posted",
                extra={"conversation": number, "error": exc.__class__.__name__},
            )
            draft = None
        async with self.store.transaction() as uow:
            conversation = await uow.conversations.conversation_by_number(number)
            if conversation is None:
                return
            now = self.clock.now()
            effects = Effects(uow, conversation, self.settings.inbox(conversation.inbox), now)
            if draft is None:
                await show_note(effects, fallback)
            else:
                await show_note(
                    effects, f"Hand-over #{number} (drafted by a language model):\n{draft.summary}"
                )
                if draft.reply:
                    prefix = self.settings.threadline.command_prefix
                    text = f"Suggested reply (not sent; type {prefix}draft send to send it):\n{draft.reply}"
                    await show_note(effects, text, **{DRAFT_META: draft.reply})
        self.notify()
