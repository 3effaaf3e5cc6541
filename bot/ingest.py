"""Ingest: one customer message in, one transaction (DESIGN §3); bursts share one (``bot.batching``).

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

from bot import faults, metrics, sla
from bot.backlog import Backlogs
from bot.batching import GroupCommitter
from bot.clock import Clock
from bot.config import Settings
from bot.csat import take_rating
from bot.domain import DeliveryStatus, MessageKind, Status, next_status
from bot.effects import Effects
from bot.inbound import AutoKind, InboundMessage, IngestResult
from bot.ingest_index import BatchIndex, identity_of
from bot.rules import apply_rules
from bot.settings.core import InboxSettings
from bot.sla.away import maybe_send_away
from storage import Repository, Store
from storage.models import Contact, Conversation

__all__ = ["Ingestor"]

log = logging.getLogger(__name__)
_SUBJECT_FALLBACK_CHARS = 80
_BACKLOG_POLL = 0.05


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
        async with self.store.transaction() as repo:
            return bool(await repo.stored_external_ids([(channel, external_id)]))

    async def load_cursor(self, key: str) -> str | None:
        """A channel's stored sync position."""
        async with self.store.transaction() as repo:
            return await repo.cursor(key)

    async def save_cursor(self, key: str, value: str) -> None:
        """Store a channel's sync position without a message (e.g. past our own sent mail)."""
        async with self.store.transaction() as repo:
            await repo.save_cursor(key, value, self.clock.now())

    async def _process_batch(
        self, repo: Repository, messages: Sequence[InboundMessage]
    ) -> list[IngestResult]:
        """Ingest a batch inside one transaction: bulk lookups first, one flush at the end."""
        with repo.explicit_flushes():
            index = await BatchIndex.load(repo, messages)
            results = [await self._process(repo, index, msg) for msg in messages]
            await index.finish(repo)
            # each message carries its channel's position after it: the batch's last one per channel counts
            for key, value in {m.cursor.key: m.cursor.value for m in messages if m.cursor}.items():
                await repo.save_cursor(key, value, self.clock.now())
            await repo.finish_journal([m.journal_id for m in messages if m.journal_id], self.clock.now())
            faults.hit("mid_batch")  # crash-safety tests: everything written, nothing committed
            return results

    async def _process(self, repo: Repository, index: BatchIndex, msg: InboundMessage) -> IngestResult:
        """Ingest one message of the batch."""
        if index.is_duplicate(msg):
            return IngestResult(duplicate=True, conversation_number=None)
        answered = index.continued(msg, index.contact(identity_of(msg.channel, msg.sender_address)))
        result = await take_rating(repo, self.settings, msg, answered, self.clock.now())
        if result is None:
            result = await self._store(repo, index, msg, self.settings.inbox(msg.inbox))
        return result

    async def _store(
        self, repo: Repository, index: BatchIndex, msg: InboundMessage, inbox: InboxSettings
    ) -> IngestResult:
        now = self.clock.now()
        kind, value = identity = identity_of(msg.channel, msg.sender_address)
        contact = index.contact(identity)
        if contact is None:
            contact = repo.create_contact(msg.sender_name, kind, value, now)
            index.add_contact(identity, contact)
        elif msg.sender_name and not contact.name:
            contact.name = msg.sender_name
        conversation, reopened, previous = self._match(index, msg, contact, inbox)
        created = conversation is None
        if conversation is None:
            conversation = await self._create(
                repo, msg, contact, inbox, previous, await index.next_number(repo)
            )
            index.add_conversation(conversation, contact)
        index.add_message(msg, conversation)
        effects = Effects(repo, conversation, inbox, now)
        if msg.auto_kind is None:
            conversation.last_inbound_at = now
        conversation.updated_at = now
        message = repo.new_message(
            conversation,
            MessageKind.INBOUND,
            now,
            channel=msg.channel,
            external_id=msg.external_id,
            author_name=contact.name or value,
            subject=msg.subject,
            text=msg.text,
            original_text=msg.original_text,
            html=msg.html,
            raw=msg.raw,
            auto_kind=msg.auto_kind,
            meta={"parse_errors": list(msg.parse_errors), **msg.extra}
            if (msg.parse_errors or msg.extra)
            else None,
        )
        await effects.show(message)
        for attachment in msg.attachments:
            repo.add_attachment(
                message,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                data=attachment.data,
                status="too_large" if attachment.too_large else ("error" if attachment.error else "stored"),
                error=attachment.error,
            )
        if msg.auto_kind:
            await self._label(repo, conversation, msg.auto_kind)
        if msg.bounced_refs:
            await self._mark_bounced(repo, msg, effects)
        if reopened:
            await effects.event("customer", "reopened", f"reopened: {contact.name or value} wrote again")
        elif conversation.status == Status.SNOOZED and msg.auto_kind is None:
            conversation.status = next_status(Status.SNOOZED, "customer_message", conversation.number)
            conversation.snoozed_until = None
            await effects.event("customer", "woke", "snooze ended: the customer wrote")
        elif not created:  # a new conversation's first post creates its thread with the card
            await effects.card_changed()
        # rules may label, assign, reply, or route to another inbox
        inbox = await apply_rules(repo, self.settings, conversation, msg, inbox, created=created, now=now)
        sla_events = ((sla.REOPENED,) if reopened else ()) + (() if msg.auto_kind else (sla.CUSTOMER,))
        sla.recompute(conversation, sla.policy_for(inbox), now, *sla_events)
        await maybe_send_away(repo, conversation, inbox, msg.auto_kind, now)
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
            found.status = next_status(Status.CLOSED, "customer_message", found.number)
            found.closed_at = None
            return found, True, None
        return None, False, found

    async def _create(
        self,
        repo: Repository,
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
            last_inbound_at=now if msg.auto_kind is None else None,
        )
        repo.add(conversation)
        repo.audit(
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
            effects = Effects(repo, conversation, inbox, now)
            await effects.notice(
                f"follows up on #{previous.number} (closed); the customer wrote again after it closed"
            )
        return conversation

    async def _label(self, repo: Repository, conversation: Conversation, name: str) -> None:
        await repo.flush()  # a conversation staged in this batch gets its id
        label = await repo.label(name, create=True)
        assert label is not None
        await repo.set_label(conversation.id, label.id, True)

    async def _mark_bounced(self, repo: Repository, msg: InboundMessage, effects: Effects) -> None:
        for original in await repo.messages_by_external_ids(msg.bounced_refs):
            if original.kind != MessageKind.OUTBOUND:
                continue
            original.delivery_status = DeliveryStatus.FAILED
            original.delivery_error = "bounced: " + (msg.subject or "delivery failure")[:200]
            await effects.notice(
                f"⚠ a reply bounced: {original.delivery_error}. Check the address, then retry."
            )
        await self._label(repo, effects.conversation, AutoKind.BOUNCE)
