"""The outbox dispatcher: delivers outbox rows to surfaces and channels.

At-least-once and idempotent: rows are claimed with a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) and read in one transaction per batch (``batch_read``),
delivered outside any transaction, and marked done with the platform's id stored
back, many to a transaction (``group_commit``). Failures are retried with exponential backoff
(``Retry-After`` honoured), paced per chat channel, and shown in the thread when
they are final. Rows of one conversation and destination go out in order.

Only real posts spend the per-channel pacing budget (Slack ~1 message/s): a card edit
waits only for a ``Retry-After`` block, and one that would change nothing is not sent
(the last card sent is fingerprinted in the cursors table, so instances agree). Outcomes
go to ``bot.runtime.metrics`` and the ``OutageTracker`` (one "down", one "back" notice per outage).
``stop`` finishes in-flight deliveries and hands back claimed rows that have not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.effects import SEND
from bot.outbox.batch_read import BatchRead, ThreadDelivery, read_batch, read_one
from bot.outbox.claims import ClaimKeeper
from bot.outbox.group_commit import Delivered, GroupCommit
from bot.outbox.lanes import Lanes, lane_key
from bot.outbox.outages import OutageTracker
from bot.outbox.outcomes import card_fingerprint, hand_back, retry_delay, show_failure
from bot.outbox.outside import OUTSIDE_THREADS, deliver_outside
from bot.outbox.pacing import Pacer, SurfacePace
from bot.outbox.presenters import outbound_view
from bot.outbox.repair import Repairs
from bot.outbox.send_records import StoredParts, keyed
from bot.outbox.waits import count_rate_limit
from bot.ports import (
    ChannelSender,
    DeliveryError,
    PermanentDeliveryError,
    SignInRefused,
    Surface,
    SurfaceRefused,
    ThreadGone,
    ThreadRef,
)
from bot.runtime import faults, metrics
from bot.runtime.db_outage import DatabaseOutage
from storage import Store
from storage.db import DatabaseUnavailable
from storage.models import OutboxRow
from storage.repo_threads import NewThread

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    """Claims due outbox rows and delivers them through the surfaces and channel senders."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        surfaces: Mapping[str, Surface],
        channels: Mapping[str, ChannelSender],
        paces: Mapping[str, SurfacePace] | None = None,
        concurrency: int = 8,
        outages: OutageTracker | None = None,
        database: DatabaseOutage | None = None,
        yield_to: Callable[[], Awaitable[None]] | None = None,
        repairs: Repairs | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.surfaces = surfaces
        self.channels = channels
        self.paces = paces or {}
        self.pacer = Pacer(clock)
        self.lanes = Lanes()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self.outages = outages
        self.database = database or DatabaseOutage()  # the instance's one, shared with ``Operations``
        self.skipped_card_edits = 0
        self.claims = ClaimKeeper(store, clock, settings.ops.claim_seconds)
        # storing what customers send comes first: a delivery waits while inbound messages are being
        # stored (an IMAP catch-up, a webhook storm), then proceeds at once
        self.yield_to = yield_to
        self.repairs = repairs or Repairs(store, settings, clock, surfaces, self.notify)  # park, then heal
        self.outcomes = GroupCommit(store, settings, clock, self._recorded, self._slots.release)

    def notify(self) -> None:
        """New rows were committed; deliver them without waiting for the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``stop()``; survives any error of a single round."""
        interval = self.settings.outbox.poll_interval_seconds
        while not self._stopping.is_set():
            wait = interval
            try:
                delivered = await self.run_once()
                self.database.succeeded()
            except DatabaseUnavailable as exc:  # one log line per outage, then backoff
                delivered, wait = 0, self.database.failed("outbox", exc)
            except Exception:
                log.exception("outbox round failed; retrying")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def stop(self) -> None:
        """Finish in-flight deliveries, hand back claimed rows not yet started, return from ``run``."""
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and deliver one batch of due rows; return how many were claimed."""
        now = self.clock.now()
        async with self.store.transaction() as uow:
            lease = now + timedelta(seconds=self.settings.ops.claim_seconds)
            rows = await uow.outbox.claim_outbox(now, lease, self.settings.outbox.batch_size)
            batch = await read_batch(uow, self.settings, rows)
        lanes: dict[str | int, list[OutboxRow]] = {}
        for row in rows:  # rows adding messages to one chat channel go one after another, in order
            key = lane_key(batch, self.settings, row)
            lanes.setdefault(row.id if key is None else key, []).append(row)
        if rows:
            faults.hit("after_claim")
            async with self.claims.holding(rows):  # renewed while held, so no other instance takes them
                await asyncio.gather(*(self._deliver_lane(key, lane, batch) for key, lane in lanes.items()))
                await self.outcomes.settle()  # a conversation's next row is claimed once this one is done
        return len(rows)

    async def _deliver_lane(self, key: str | int, rows: list[OutboxRow], batch: BatchRead) -> None:
        """Deliver a lane's rows in order; one that has to wait holds the rest of its lane."""
        lane = key if isinstance(key, str) else None
        for index, row in enumerate(rows):
            until = self.lanes.held(lane, row.id, self.clock.now())
            rest = rows[index:]
            if until is None:
                until = await self._deliver_slot(row, batch)
                if until is None or lane is None:
                    continue
                self.lanes.hold(lane, row.id, until)
                rest = rows[index + 1 :]
            for waiting in rest:
                self.claims.release(waiting)
            async with self.store.transaction() as uow:
                for waiting in rest:
                    await hand_back(uow, waiting.id, until)
            return

    async def deliver_claimed(self, row: OutboxRow) -> bool:
        """Deliver at once a row its writer claimed as it wrote it (``enqueue_claimed``: a digest posted
        now); True when it went out. A failure is retried like any row's."""
        went = await self._deliver_slot(row) is None
        await self.outcomes.settle()
        return went and await self._is_done(row.id)

    async def _is_done(self, row_id: int) -> bool:
        async with self.store.transaction() as uow:
            return (await uow.outbox.outbox_row(row_id)).status == "done"

    async def drain(self, max_rounds: int = 1000) -> None:
        """Deliver until nothing is due now (tests and the CLI use it)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                return

    async def _deliver_slot(self, row: OutboxRow, batch: BatchRead | None = None) -> datetime | None:
        """Deliver one row; return when it is due again if it must wait (None: delivered, final or handed
        back). A delivered row's outcome is recorded with its group (``self.outcomes``)."""
        try:
            return await self._deliver_held(row, batch)
        finally:  # (the outcomes below release it before they are recorded)
            self.claims.release(row)

    async def _deliver_held(self, row: OutboxRow, batch: BatchRead | None) -> datetime | None:
        # a slot is held from the call to the platform until the outcome is committed: a crash
        # catches at most ``concurrency`` deliveries accepted and not yet recorded
        await self._slots.acquire()
        handed = False
        try:
            if self.yield_to is not None and not self._stopping.is_set():
                await self.yield_to()
            if self._stopping.is_set():
                await self._hand_back(row)
                return None
            started = time.perf_counter()
            try:
                if not await self.claims.still_claimed(row):
                    return None
                surface = row.destination.partition(":")[2] if row.destination.startswith("surface:") else ""
                if surface and await self.repairs.hold(row, surface):
                    return None  # its conversation waits for the surface to be repaired: parked
                delivered = await self._deliver(row, batch)
                if batch is not None and row.id not in batch.queued:
                    delivered = replace(delivered, maybe_queued=False)
            except DatabaseUnavailable as exc:
                # the database failed, not the destination: nothing counts against it; the row stays
                # claimed and comes back after [ops] claim_seconds (it may have been delivered)
                self.database.failed("outbox delivery", exc)
                return None
            except SurfaceRefused as exc:  # until someone fixes the setup: park, tell once, heal later
                if row.conversation_id is None:  # a digest has no mirror to repair: it fails as refused
                    self.claims.release(row)
                    return await self._failed(row, exc)
                await self.repairs.refused(row, surface, exc)
                return None
            except ThreadGone as exc:  # the card or thread was deleted: a new card with the whole history
                if row.conversation_id is None:
                    self.claims.release(row)
                    return await self._failed(row, DeliveryError(str(exc)))
                await self.repairs.rebuild(row, surface)
                return None
            except DeliveryError as exc:
                self.claims.release(row)
                return await self._failed(row, exc)
            except Exception as exc:  # a bug or an unexpected platform answer: retry, never crash
                log.exception("outbox delivery raised", extra={"outbox_id": row.id, "kind": row.kind})
                self.claims.release(row)
                return await self._failed(row, DeliveryError(f"internal error: {exc.__class__.__name__}"))
            else:
                self.claims.release(row)
                faults.hit("before_done")  # crash-safety tests: delivered, not yet marked done
                faults.hit(f"delivered_{row.kind}")  # the same, for one kind only (send, post, card, notice)
                elapsed = time.perf_counter() - started
                metrics.observe(metrics.DELIVERY_SECONDS, elapsed, destination=row.destination)
                self.outcomes.add(delivered)  # releases the slot once committed
                handed = True
                return None
        finally:
            if not handed:
                self._slots.release()

    async def _hand_back(self, row: OutboxRow) -> None:
        """Shutting down: make a claimed, unstarted row due again at once (for this or another instance)."""
        async with self.store.transaction() as uow:
            await hand_back(uow, row.id, self.clock.now())

    async def _deliver(self, row: OutboxRow, batch: BatchRead | None) -> Delivered:
        kind, _, name = row.destination.partition(":")
        if kind == "channel":
            return Delivered(row, await self._send(row, name))
        surface = self.surfaces.get(name)
        if surface is None:
            raise PermanentDeliveryError(f"surface '{name}' is not running")
        if row.kind in OUTSIDE_THREADS:  # channel posts, digests, deletions
            return Delivered(row, await deliver_outside(self.store, row, surface, self._pace))
        if row.conversation_id is None:
            raise PermanentDeliveryError(f"a {row.kind} row needs a conversation")
        return await self._to_thread(row, surface, batch)

    async def _to_thread(self, row: OutboxRow, surface: Surface, batch: BatchRead | None) -> Delivered:
        """Open the thread (post the card), edit the card, or post into the thread, as ``row`` says."""
        read = batch.deliveries.get(row.id) if batch is not None else None
        if read is None or not read.fresh() or row.conversation_id in self.repairs.remirrored:
            read = await self._read_one(row)
        if read.unchanged_card():  # nothing to change: spend no request and no token
            return self._skipped(row, surface, read)
        if await self._pace(surface, read.chat_channel, edit=read.is_edit()) and read.batched:
            read = await self._read_one(row)  # it waited to go out: send what is true now
            if read.unchanged_card():
                return self._skipped(row, surface, read)
        conversation = read.conversation
        card, post = keyed(row, read.card), keyed(row, read.post)
        if read.thread is None:
            assert card is not None
            fingerprint = ((surface.name, conversation.id), card_fingerprint(card))
            ref = await surface.create_thread(read.chat_channel, card)
            faults.hit("thread_created")  # crash tests: the card is on the surface, its thread not stored
            opened = NewThread(conversation.id, surface.name, ref.chat_channel, ref.thread_id, ref.card_id)
            if post is None:
                return Delivered(row, ref.card_id, opened, fingerprint)
            try:
                await self._pace(surface, read.chat_channel)
                return Delivered(row, await surface.post(ref, post), opened, fingerprint)
            except Exception:  # the card is up: its thread is kept, so a retry posts into it
                async with self.store.transaction() as uow:
                    await uow.threads.save_threads([opened], self.clock.now())
                    await uow.cards.save_fingerprints(dict([fingerprint]), self.clock.now())
                raise
        assert read.thread is not None
        ref = ThreadRef(read.thread.chat_channel, read.thread.thread_id, read.thread.card_id)
        if post is None:
            assert card is not None
            await surface.update_card(ref, card)
            return Delivered(row, ref.card_id, card=((surface.name, conversation.id), card_fingerprint(card)))
        return Delivered(row, await surface.post(ref, post))

    async def _read_one(self, row: OutboxRow) -> ThreadDelivery:
        async with self.store.transaction() as uow:
            return await read_one(uow, self.settings, row)

    def _skipped(self, row: OutboxRow, surface: Surface, read: ThreadDelivery) -> Delivered:
        self.skipped_card_edits += 1
        metrics.inc(metrics.PACING_SKIPPED, surface=surface.name)
        assert read.thread is not None
        return Delivered(row, read.thread.card_id)

    async def _pace(self, surface: Surface, chat_channel: str, *, edit: bool = False) -> bool:
        """Posts take a token of the chat channel's bucket; edits only wait out a ``Retry-After`` block.
        True when it waited."""
        pace = self.paces.get(surface.name)
        if pace is None:
            return False
        key = f"{surface.name}:{surface.pace_key(chat_channel)}"
        if not edit:
            return await self.pacer.wait(key, pace.rate, pace.burst)
        pause = self.pacer.delay(key, 0.0, 1)  # rate 0: only a Retry-After block delays an edit
        if pause > 0:
            await asyncio.sleep(pause)
        return pause > 0

    async def _send(self, row: OutboxRow, channel: str) -> str:
        sender = self.channels.get(channel)
        if sender is None:
            raise PermanentDeliveryError(f"channel '{channel}' is not configured")
        if row.message_id is None or row.conversation_id is None:
            raise PermanentDeliveryError("send row without a message")
        async with self.store.transaction() as uow:
            message = await uow.messages.message(row.message_id)
            conversation = await uow.conversations.conversation(row.conversation_id)
            view = await outbound_view(uow, message, conversation, self.settings)
            parts = StoredParts(self.store, self.clock, message.id, await uow.sends.sent_parts(message.id))
        return await sender.send(view, parts)

    async def _recorded(self, group: Sequence[Delivered]) -> None:
        """A group of deliveries is committed: count, log, and tell outages and repairs they went through."""
        for delivered in group:
            row = delivered.row
            faults.hit("after_done")  # crash-safety tests: marked done
            metrics.inc(metrics.DELIVERIES, destination=row.destination, kind=row.kind)
            if row.kind == SEND:
                metrics.inc(metrics.MESSAGES_OUT, channel=row.destination.partition(":")[2])
                self.notify()
            where = {"destination": row.destination, "conversation_id": row.conversation_id}
            log.info("delivered", extra={"outbox_id": row.id, "kind": row.kind, **where})
            if self.outages is not None:
                await self.outages.succeeded(row.destination)
            if row.destination.startswith("surface:"):
                await self.repairs.succeeded(row, row.destination.partition(":")[2])

    async def _failed(self, row: OutboxRow, error: DeliveryError) -> datetime | None:
        """Record a failure; return when the row is due again (None when the failure is final)."""
        now = self.clock.now()
        retry_at: datetime | None = None
        outbox = self.settings.outbox
        attempts = row.attempts
        if error.retry_after is not None:
            attempts -= 1  # a rate limit is not the destination failing
            kind, _, name = row.destination.partition(":")
            if kind == "surface" and name in self.surfaces:
                self.pacer.penalise(name, error.retry_after)
        refused = isinstance(error, SignInRefused)  # waits for the fix however long: never given up
        final = not refused and (isinstance(error, PermanentDeliveryError) or attempts >= outbox.max_attempts)
        async with self.store.transaction() as uow:
            stored = await uow.outbox.outbox_row(row.id)
            stored.attempts = attempts
            stored.last_error = error.reason[:2000]
            if error.rate_limited:
                await count_rate_limit(uow, self.settings, row, now)
            if not final:
                delay = retry_delay(outbox, attempts, error.retry_after)
                stored.next_attempt_at = retry_at = now + timedelta(seconds=delay)
            else:
                stored.status = "failed"
                await show_failure(uow, self.settings, row, error, now)
        metrics.inc(
            metrics.DELIVERY_FAILURES, destination=row.destination, kind=row.kind, final=str(final).lower()
        )
        if self.outages is not None and not final and error.retry_after is None:
            await self.outages.failed(row.destination, row.conversation_id, error.reason, refused=refused)
        level = logging.ERROR if final else logging.WARNING
        where = {"destination": row.destination, "reason": error.reason[:200]}
        log.log(
            level, "delivery failed", extra={"outbox_id": row.id, "kind": row.kind, "final": final, **where}
        )
        if final:
            self.notify()
        return retry_at
