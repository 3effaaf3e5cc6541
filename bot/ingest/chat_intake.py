"""Chat-native intake: messages of customers who write from chat, through the intake rules, then ingest.

A Discord DM to the bot or a message in a Slack intake channel reaches the core here, as an
``InboundMessage`` like any other, and is filed by the same ``Ingestor`` (same journal, same
conversations, contacts, rules and outbox). Before that the ``[intake]`` rules apply:

- a message starting with ``opt_out_prefix`` is never taken in;
- a pleasantry ("thanks!", emoji only) never opens a new conversation: it is stored only
  when it continues one (a reply in the conversation's Slack thread, a DM while the
  conversation is open), else dropped;
- a new top-level message from the same person within ``group_seconds`` of their last one
  continues that (open) conversation instead of opening another.

Customers' edits and deletions are mirrored too (``mirror_edit``, ``mirror_delete``): the
stored message keeps its previous text in ``meta["edits"]``, and the staff thread shows the
edit, or a tombstone for a deletion.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.domain import MessageKind, Status
from bot.effects import Effects
from bot.ingest.index import identities_of
from bot.ingest.reused_ids import FINGERPRINT_KEY
from bot.ingest.service import Ingestor
from bot.ports.inbound import InboundMessage, IngestResult
from storage import Store, UnitOfWork
from storage.models import Conversation, Message

__all__ = ["ChatIntake", "is_pleasantry"]

log = logging.getLogger(__name__)
_WORDS = re.compile(r"[\w']+")


def is_pleasantry(text: str, pleasantries: list[str] | tuple[str, ...]) -> bool:
    """True for "thanks!", "ok 👍", "Thank you :)" and emoji-only messages: nothing to work on."""
    bare = re.sub(r":[a-z0-9_+-]+:", " ", text.lower())  # Slack writes emoji as :shortcodes:
    words = " ".join(_WORDS.findall(bare))
    if not words:  # emoji and punctuation only
        return bool(text.strip()) and all(not unicodedata.category(ch).startswith(("L", "N")) for ch in bare)
    return words in {" ".join(_WORDS.findall(p.lower())) for p in pleasantries}


class ChatIntake:
    """Applies the intake rules to a chat message and hands what is kept to ``Ingestor.ingest``."""

    def __init__(self, store: Store, settings: Settings, ingestor: Ingestor, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.ingestor = ingestor
        self.clock = clock

    async def receive(self, msg: InboundMessage, *, team_surface: str | None = None) -> IngestResult | None:
        """File ``msg`` per the intake rules; None when the rules leave it out (nothing is stored).

        ``team_surface``: the customers write on the team's own platform (a Slack intake channel);
        a message by one of the team's agents there is theirs, not a customer's, and is left out.
        """
        rules = self.settings.intake
        if rules.opt_out_prefix and msg.text.lstrip().lower().startswith(rules.opt_out_prefix.lower()):
            log.info("chat message opted out", extra={"channel": msg.channel, "inbox": msg.inbox})
            return None
        async with self.store.snapshot() as uow:
            if (
                team_surface
                and await uow.agents.agent_by_identity(team_surface, msg.sender_address) is not None
            ):
                log.info("an agent's message in an intake channel", extra={"inbox": msg.inbox})
                return None
            continued, latest = await self._known(uow, msg)
        if continued is None and latest is not None and self._grouped(msg, latest):
            msg = dataclasses.replace(msg, conversation_hint=latest.number)
            continued = latest
        if continued is None and is_pleasantry(msg.text, rules.pleasantries) and not msg.attachments:
            log.info("pleasantry opens no conversation", extra={"channel": msg.channel, "inbox": msg.inbox})
            return None
        return await self.ingestor.ingest(msg)

    async def _known(
        self, uow: UnitOfWork, msg: InboundMessage
    ) -> tuple[Conversation | None, Conversation | None]:
        """(the conversation ``msg`` answers by its thread refs, the sender's latest in the inbox)."""
        refs = (await uow.ingest.stored_messages((), msg.thread_refs, FINGERPRINT_KEY)).conversations
        continued = max(refs.values(), key=lambda pair: pair[0])[1] if refs else None
        owners = await uow.ingest.contacts_by_identities(
            identities_of(msg, self.settings.channel_rules(msg.channel))
        )
        contact = next(iter(owners.values()), None)
        if contact is None:
            return continued, None
        latest = (await uow.ingest.latest_conversations([contact.id])).get((contact.id, msg.inbox))
        return continued, latest

    def _grouped(self, msg: InboundMessage, latest: Conversation) -> bool:
        """Whether ``msg`` continues the sender's latest conversation: it is not closed, and (a DM) the
        channel continues open conversations, or (a top-level message) it came within the gap."""
        if latest.status == Status.CLOSED:
            return False
        if msg.match_open_by_contact:
            return True
        gap = timedelta(seconds=self.settings.intake.group_seconds)
        last = latest.last_inbound_at
        return bool(gap) and last is not None and msg.received_at - last <= gap

    async def recent_inbound(self, channel: str, since: datetime) -> list[tuple[str, dict[str, Any]]]:
        """(external id, meta) of the customer messages on ``channel`` stored since ``since``: where a
        chat adapter reads on from after a restart."""
        async with self.store.snapshot() as uow:
            return await uow.messages.recent_inbound(channel, since)

    async def mirror_edit(
        self, channel: str, external_id: str, text: str, journal_id: int | None = None
    ) -> bool:
        """The customer edited message ``external_id``: store the new text (the old one kept) and show
        the edit in the staff thread. False when Threadline never stored that message."""
        async with self.store.transaction() as uow:
            found = await self._message(uow, channel, external_id)
            if found is not None and found[0].text != text:
                message, effects = found
                edits = [
                    *(message.meta or {}).get("edits", []),
                    {"text": message.text, "at": effects.now.isoformat()},
                ]
                message.meta = {**(message.meta or {}), "edits": edits}
                await effects.notice(
                    f"The customer edited a message. Now: “{text}” — before: “{message.text}”"
                )
                message.text = text
            await self._finish(uow, journal_id)
        return found is not None

    async def mirror_delete(self, channel: str, external_id: str, journal_id: int | None = None) -> bool:
        """The customer deleted message ``external_id``: marked deleted, a tombstone in the staff thread."""
        async with self.store.transaction() as uow:
            found = await self._message(uow, channel, external_id)
            if found is not None:
                message, effects = found
                message.meta = {**(message.meta or {}), "deleted_at": effects.now.isoformat()}
                await effects.notice(f"🗑 The customer deleted a message (it said: “{message.text}”).")
            await self._finish(uow, journal_id)
        return found is not None

    async def _message(
        self, uow: UnitOfWork, channel: str, external_id: str
    ) -> tuple[Message, Effects] | None:
        """The stored customer message with this external id on ``channel``, and its effects writer."""
        messages = [
            m
            for m in await uow.messages.messages_by_external_ids([external_id])
            if m.channel == channel and m.kind == MessageKind.INBOUND
        ]
        if not messages:
            return None
        message = messages[-1]
        conversation = await uow.conversations.conversation(message.conversation_id)
        inbox = self.settings.inbox(conversation.inbox)
        return message, Effects(uow, conversation, inbox, self.clock.now())

    async def _finish(self, uow: UnitOfWork, journal_id: int | None) -> None:
        if journal_id is not None:
            await uow.journal.finish([journal_id], self.clock.now())
