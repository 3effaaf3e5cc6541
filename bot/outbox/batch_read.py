"""Reading a claimed batch: what each thread delivery of the batch needs, for all its rows at once.

In the claim's transaction the dispatcher reads every claimed row's conversation, its thread on
the row's surface, the fingerprint of the card last sent there, and the card and post to send,
with one statement per table (``storage.repo_batch``), instead of a transaction per row. What a
row shows must be true when it goes out: a row whose batch read is older than ``FRESH_SECONDS``
by then (it waited for a delivery slot, pacing, a ``Retry-After`` block or earlier rows of its
lane) reads its own again (``read_one``), and so does one whose conversation was re-mirrored since.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.config import Settings
from bot.effects import NOTICE, POST
from bot.outbox.outcomes import card_fingerprint
from bot.outbox.outside import OUTSIDE_THREADS
from bot.outbox.presenters import card_of, post_of
from bot.views import CardView, PostView
from storage import UnitOfWork
from storage.models import Conversation, OutboxRow, ThreadRow

__all__ = ["FRESH_SECONDS", "BatchRead", "ThreadDelivery", "read_batch", "read_one"]

FRESH_SECONDS = 3.0
"""How old (real seconds) a batch read may be when its row goes out; older, the row reads again.
A batch of 50 takes well under a second on an idle machine; on one loaded many times over its
cores a second was too little and every row read again. A card a few seconds old is corrected by
the card row every change enqueues behind it."""


@dataclass(frozen=True)
class ThreadDelivery:
    """What one row delivers into its conversation's thread on a surface, as read at ``read_at``."""

    conversation: Conversation
    chat_channel: str
    thread: ThreadRow | None  # None: the card is posted first, opening the thread
    card: CardView | None  # the card to post or edit; None for a plain post into an open thread
    post: PostView | None  # the post into the thread; None for a card alone
    sent_card: str | None  # the fingerprint of the card last sent (an edit only)
    read_at: float  # time.monotonic() of the read
    batched: bool  # read with its batch (True) or on its own (False)

    def fresh(self) -> bool:
        """True while the read is young enough to be sent as it is."""
        return time.monotonic() - self.read_at <= FRESH_SECONDS

    def is_edit(self) -> bool:
        """True when the row edits the card of an open thread in place (no new message)."""
        return self.thread is not None and self.post is None

    def unchanged_card(self) -> bool:
        """True for an edit that would show exactly the card last sent (nothing to send)."""
        return self.is_edit() and self.card is not None and self.sent_card == card_fingerprint(self.card)


@dataclass(frozen=True)
class BatchRead:
    """A claimed batch as read: conversations, threads, and each thread row's ``ThreadDelivery``."""

    conversations: dict[int, Conversation]
    threads: dict[tuple[int, str], ThreadRow]
    deliveries: dict[int, ThreadDelivery]  # by outbox row id
    queued: frozenset[int] = frozenset()  # rows whose thread was told they were queued (``waits``)


def _surface(row: OutboxRow) -> str:
    return row.destination.partition(":")[2] if row.destination.startswith("surface:") else ""


def _into_thread(row: OutboxRow) -> bool:
    return bool(_surface(row)) and row.kind not in OUTSIDE_THREADS and row.conversation_id is not None


async def read_batch(uow: UnitOfWork, settings: Settings, rows: Sequence[OutboxRow]) -> BatchRead:
    """Read everything the claimed rows' thread deliveries need, and which rows' threads were told
    they were queued; a row that cannot be read here (its conversation or message gone, its inbox
    no longer configured) is left to ``read_one``, whose error says why when it is delivered."""
    read = await _read(uow, settings, rows)
    # only this claim delivers its rows, and a rate-limited row is not delivered again within it,
    # so what the claim reads of their waits holds when they are recorded (``group_commit``)
    waits = await uow.sends.outbox_waits_of([row.id for row in rows])
    queued = frozenset(i for i, wait in waits.items() if wait.queued_notice_at is not None)
    return replace(read, queued=queued)


async def _read(uow: UnitOfWork, settings: Settings, rows: Sequence[OutboxRow]) -> BatchRead:
    read_at = time.monotonic()
    ids = {row.conversation_id for row in rows if row.conversation_id is not None}
    conversations = await uow.batch.conversations_by_id(ids)
    threads = await uow.batch.threads_of_many(ids)
    wanted = [row for row in rows if _into_thread(row) and row.conversation_id in conversations]
    cards = {  # rows that send a card: every kind but a post into an open thread
        row.id: conversations[row.conversation_id]
        for row in wanted
        if row.conversation_id is not None
        and ((row.conversation_id, _surface(row)) not in threads or row.kind not in (POST, NOTICE))
    }
    edits = [row for row in wanted if row.id in cards and (row.conversation_id, _surface(row)) in threads]
    sent = await uow.cards.fingerprints_of({(_surface(row), row.conversation_id or 0) for row in edits})
    shown = {c.id: c for c in cards.values()}
    contacts = await uow.batch.contacts_by_id({c.contact_id for c in shown.values()})
    agents = await uow.agents.agent_names(
        {c.assignee_id for c in shown.values() if c.assignee_id is not None}
    )
    labels = await uow.batch.labels_of_many(shown)
    accounts = await uow.batch.accounts_of_many(shown)
    message_ids = {row.message_id for row in wanted if row.kind == POST and row.message_id is not None}
    messages = await uow.batch.messages_by_id(message_ids)
    attachments = await uow.batch.attachments_of_many(messages)
    deliveries: dict[int, ThreadDelivery] = {}
    for row in wanted:
        assert row.conversation_id is not None
        conversation = conversations[row.conversation_id]
        surface = _surface(row)
        thread = threads.get((conversation.id, surface))
        inbox = settings.inboxes.get(conversation.inbox)
        if inbox is None or (
            row.kind == POST and row.message_id is not None and row.message_id not in messages
        ):
            continue
        card = None
        if row.id in cards:
            contact = contacts.get(conversation.contact_id)
            if contact is None:
                continue
            assignee = agents.get(conversation.assignee_id) if conversation.assignee_id is not None else None
            card = card_of(
                conversation,
                contact,
                assignee,
                labels.get(conversation.id, []),
                accounts.get(conversation.id, ""),
                settings,
            )
        post: PostView | None = None
        if row.kind == POST and row.message_id is not None:
            message = messages[row.message_id]
            post = post_of(message, conversation, attachments.get(message.id, []))
        elif row.kind == NOTICE:
            undo = conversation.number if row.payload.get("undo") else None  # bot.outbox.undo
            text = str(row.payload.get("text", ""))
            post = PostView(
                kind="notice", author="Threadline", text=text, created_at=row.created_at, undo_number=undo
            )
        edit = thread is not None and row.kind not in (POST, NOTICE)
        deliveries[row.id] = ThreadDelivery(
            conversation=conversation,
            chat_channel=inbox.chat_channel,
            thread=thread,
            card=card,
            post=post,
            sent_card=sent.get((surface, conversation.id)) if edit else None,
            read_at=read_at,
            batched=True,
        )
    return BatchRead(conversations, threads, deliveries)


async def read_one(uow: UnitOfWork, settings: Settings, row: OutboxRow) -> ThreadDelivery:
    """Read what one thread row delivers, as it is now; raises what explains a row that cannot be read."""
    read = await _read(uow, settings, [row])
    found = read.deliveries.get(row.id)
    if found is not None:
        return replace(found, batched=False)
    assert row.conversation_id is not None
    conversation = read.conversations.get(row.conversation_id)
    if conversation is None:
        raise LookupError(f"conversation {row.conversation_id} of outbox row {row.id} is gone")
    settings.inbox(conversation.inbox)  # KeyError: its inbox is no longer configured
    raise LookupError(f"the message or contact of outbox row {row.id} is gone")
