"""Ingest: one customer message in, one transaction; bursts share one (``bot.ingest.batching``).

Deduplicate on (channel, external id); find or create the contact; find the
conversation (thread references, the ``[#N]`` hint, or the contact's open
conversation on WhatsApp-like channels) or create one; store the message and its
attachments; record the channel cursor; write outbox rows. Nothing is posted to a
platform inside the transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot import lifecycle
from bot.automation import apply_rules
from bot.automation.csat import take_rating
from bot.clock import Clock
from bot.config import Settings
from bot.contacts import NO_ADDRESS, NO_SENDER
from bot.domain import MessageKind, Status
from bot.effects import Effects
from bot.ingest.backlog import Backlogs
from bot.ingest.batching import GroupCommitter
from bot.ingest.bounces import record_bounce
from bot.ingest.contacts import sender_contact
from bot.ingest.index import BatchIndex, identities_of
from bot.ingest.references import shown_text
from bot.ingest.reused_ids import FINGERPRINT_KEY, REUSED_KEY
from bot.ports.inbound import AutoKind, InboundMessage, IngestResult
from bot.runtime import faults, metrics
from bot.settings.core import InboxSettings
from bot.sla.away import maybe_send_away
from storage import Store, UnitOfWork
from storage.models import Contact, Conversation

__all__ = ["Ingestor"]

log = logging.getLogger(__name__)
_SUBJECT_FALLBACK_CHARS = 80
_BACKLOG_POLL = 0.05


def _wrote_at(msg: InboundMessage, now: datetime, before: datetime | None) -> datetime:
    """When the customer last wrote: the channel's time of this message (never in the future), or the
    earlier message's when that is newer (deliveries can arrive out of order). Reply windows start here."""
    sent = msg.received_at if msg.received_at.tzinfo else msg.received_at.replace(tzinfo=UTC)
    wrote = min(now, sent)
    return max(before, wrote) if before is not None else wrote


class Ingestor:
    """Turns inbound messages into stored conversation messages and outbox rows."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self._writer: GroupCommitter[InboundMessage, IngestResult] = GroupCommitter(
            store, self._process_batch
        )
        self.backlogs = Backlogs()

    async def ingest(self, msg: InboundMessage) -> IngestResult:
        """Store one inbound message; a duplicate only advances the channel cursor."""
        inbox = self.settings.inboxes.get(msg.inbox)
        if inbox is None:
            raise ValueError(f"message for unknown inbox {msg.inbox!r}")
        result = await self._writer.submit(msg)
        faults.hit("after_commit")  # crash-safety tests; a no-op in production
        self.backlogs.stored(f"{msg.channel}:{msg.inbox}", msg.more_follow)
        if result.duplicate:
            log.info("duplicate inbound ignored", extra={"channel": msg.channel, "inbox": msg.inbox})
            return result
        metrics.inc(metrics.MESSAGES_IN, channel=msg.channel)  # one-line metrics hook
        self.notify()
        log.info(
            "inbound stored",
            extra={"conversation": result.conversation_number, "channel": msg.channel, "inbox": msg.inbox},
        )
        return result

    async def idle(self) -> None:
        """Return once no inbound message waits to be stored and no backlog is being read.

        Deliveries call it first: customers' messages are stored before anything is mirrored.
        """
        await self._writer.idle()
        while self.backlogs.active():
            await asyncio.sleep(_BACKLOG_POLL)
            await self._writer.idle()

    async def is_stored(self, channel: str, external_id: str) -> bool:
        """True when the message (channel, external id) is stored already (a redelivery)."""
        async with self.store.transaction() as uow:
            stored = await uow.ingest.stored_messages([(channel, external_id)], (), FINGERPRINT_KEY)
            return bool(stored.fingerprints)

    async def load_cursor(self, key: str) -> str | None:
        """A channel's stored sync position."""
        async with self.store.transaction() as uow:
            return await uow.cursors.cursor(key)

    async def save_cursor(self, key: str, value: str) -> None:
        """Store a channel's sync position without a message (e.g. past our own sent mail)."""
        async with self.store.transaction() as uow:
            await uow.cursors.save_cursor(key, value, self.clock.now())

    async def _process_batch(self, uow: UnitOfWork, messages: Sequence[InboundMessage]) -> list[IngestResult]:
        """Ingest a batch inside one transaction: bulk lookups first, one flush at the end."""
        with uow.explicit_flushes():
            index = await BatchIndex.load(uow, messages, self.settings.channel_rules)
            results = [await self._process(uow, index, msg) for msg in messages]
            await index.finish(uow)
            # each message carries its channel's position after it: the batch's last one per channel counts
            for key, value in {m.cursor.key: m.cursor.value for m in messages if m.cursor}.items():
                await uow.cursors.save_cursor(key, value, self.clock.now())
            await uow.journal.finish([m.journal_id for m in messages if m.journal_id], self.clock.now())
            faults.hit("mid_batch")  # crash-safety tests: everything written, nothing committed
            return results

    async def _process(self, uow: UnitOfWork, index: BatchIndex, msg: InboundMessage) -> IngestResult:
        """Ingest one message of the batch."""
        deduplicated = index.deduplicated(msg)
        if deduplicated is None:
            return IngestResult(duplicate=True, conversation_number=None)
        msg = deduplicated
        answered = index.continued(msg, index.sender(msg))
        result = await take_rating(uow, self.settings, msg, answered, self.clock.now())
        if result is None:
            result = await self._store(uow, index, msg, self.settings.inbox(msg.inbox))
        return result

    async def _store(
        self, uow: UnitOfWork, index: BatchIndex, msg: InboundMessage, inbox: InboxSettings
    ) -> IngestResult:
        now = self.clock.now()
        contact = await sender_contact(uow, index, msg, self.settings.inboxes, now)
        kind, value = identities_of(msg, self.settings.channel_rules(msg.channel))[0]
        conversation, reopened, previous = self._match(index, msg, contact, inbox)
        created = conversation is None
        if conversation is None:
            conversation = await self._create(
                uow, msg, contact, inbox, previous, await index.next_number(uow)
            )
            index.add_conversation(conversation, contact)
        index.add_message(msg, conversation)
        effects = Effects(uow, conversation, inbox, now)
        if msg.auto_kind is None:
            conversation.last_inbound_at = _wrote_at(msg, now, conversation.last_inbound_at)
        conversation.updated_at = now
        message = uow.messages.new_message(
            conversation,
            MessageKind.INBOUND,
            now,
            channel=msg.channel,
            external_id=msg.external_id,
            author_name=contact.name or (value if kind != NO_ADDRESS else NO_SENDER),
            subject=msg.subject,
            text=await shown_text(uow, msg),
            original_text=msg.original_text,
            html=msg.html,
            raw=msg.raw,
            auto_kind=msg.auto_kind,
            meta={"parse_errors": list(msg.parse_errors), **msg.extra}
            if (msg.parse_errors or msg.extra)
            else None,
        )
        await effects.show(message)
        if msg.extra.get("malformed"):  # one line; the surface marks a notice with ⚠
            await effects.notice(f"this mail was malformed: {msg.extra['malformed']}; shown as best read")
        for attachment in msg.attachments:
            uow.messages.add_attachment(
                message,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                data=attachment.data,
                status="too_large" if attachment.too_large else ("error" if attachment.error else "stored"),
                error=attachment.error,
            )
        if REUSED_KEY in msg.extra:
            log.warning("inbound reuses a stored external id", extra={"channel": msg.channel})
            await effects.notice(
                "⚠ this message reuses the id of an earlier, different message; kept as its own message"
            )
        if msg.auto_kind:
            await index.automation.give_label(conversation, msg.auto_kind)
        if msg.bounced_refs:
            await self._mark_bounced(uow, index, msg, effects)
        if reopened:
            await effects.event("customer", "reopened", f"reopened: {contact.name or value} wrote again")
        elif conversation.status == Status.SNOOZED and msg.auto_kind is None:
            lifecycle.wake_by_customer(conversation)
            await effects.event("customer", "woke", "snooze ended: the customer wrote")
        elif not created:  # a new conversation's first post creates its thread with the card
            await effects.card_changed()
        # rules may label, assign, reply, or route to another inbox
        inbox = await apply_rules(
            uow, self.settings, conversation, msg, inbox, batch=index.automation, created=created, now=now
        )
        lifecycle.customer_wrote(conversation, inbox, now, reopened=reopened, automatic=bool(msg.auto_kind))
        # no automatic answer without an address, nor to mail read again after a mailbox rebuild
        if msg.sender_address and not msg.resynced:
            await maybe_send_away(uow, conversation, inbox, msg.auto_kind, now)
        return IngestResult(
            duplicate=False,
            conversation_number=conversation.number,
            created_conversation=created,
            reopened=reopened,
        )

    def _match(
        self, index: BatchIndex, msg: InboundMessage, contact: Contact, inbox: InboxSettings
    ) -> tuple[Conversation | None, bool, Conversation | None]:
        """The conversation this message continues, whether it was reopened, and a closed predecessor."""
        found = index.continued(msg, contact)
        if found is None or found.status != Status.CLOSED:
            return found, False, None
        if msg.auto_kind is not None:
            return found, False, None  # an auto-reply or bounce never reopens a conversation
        closed_at = found.closed_at or found.updated_at
        if self.clock.now() - closed_at <= inbox.reopen_delta:
            lifecycle.reopen_by_customer(found)
            return found, True, None
        return None, False, found

    async def _create(
        self,
        uow: UnitOfWork,
        msg: InboundMessage,
        contact: Contact,
        inbox: InboxSettings,
        previous: Conversation | None,
        number: int,
    ) -> Conversation:
        now = self.clock.now()
        subject = (msg.subject or "").strip() or msg.text.strip().split("\n")[0][:_SUBJECT_FALLBACK_CHARS]
        conversation = Conversation(
            number=number,
            inbox=msg.inbox,
            channel=msg.channel,
            contact_id=contact.id,  # None for a contact staged in this batch: the flush fills it in
            contact=contact,
            subject=subject[:500] or "(no subject)",
            status=Status.OPEN,
            priority="normal",
            previous_id=previous.id if previous is not None else None,
            created_at=now,
            updated_at=now,
            last_inbound_at=_wrote_at(msg, now, None) if msg.auto_kind is None else None,
        )
        uow.add(conversation)
        uow.audit.record(
            actor="customer",
            action="created",
            now=now,
            conversation=conversation,
            detail={
                "channel": msg.channel,
                "inbox": msg.inbox,
                "previous": previous.number if previous else None,
            },
        )
        if previous is not None:
            effects = Effects(uow, conversation, inbox, now)
            await effects.notice(
                f"follows up on #{previous.number} (closed); the customer wrote again after it closed"
            )
        return conversation

    async def _mark_bounced(
        self, uow: UnitOfWork, index: BatchIndex, msg: InboundMessage, effects: Effects
    ) -> None:
        await record_bounce(uow, self.settings, msg, effects.now)
        await index.automation.give_label(effects.conversation, AutoKind.BOUNCE)
