"""The outbox dispatcher: delivers outbox rows to surfaces and channels (DESIGN §3).

At-least-once and idempotent: rows are claimed with a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), delivered outside any transaction, and marked done with
the platform's id stored back. Failures are retried with exponential backoff
(``Retry-After`` honoured), paced per chat channel, and shown in the thread when
they are final. Rows of one conversation and destination go out in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot import sla
from bot.clock import Clock
from bot.config import Settings
from bot.domain import DeliveryStatus
from bot.effects import CARD, NOTICE, POST, SEND, Effects
from bot.pacing import Pacer
from bot.ports import ChannelSender, DeliveryError, PermanentDeliveryError, Surface, ThreadGone, ThreadRef
from bot.presenters import card_view, outbound_view, post_view
from bot.views import PostView
from storage import Repository, Store
from storage.models import OutboxRow

__all__ = ["Dispatcher", "SurfacePace"]

log = logging.getLogger(__name__)
_CLAIM_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class SurfacePace:
    """How fast one chat channel of a surface may be posted to: ``rate`` per second, ``burst`` at once."""

    rate: float
    burst: int


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
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.surfaces = surfaces
        self.channels = channels
        self.paces = paces or {}
        self.pacer = Pacer()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()

    def notify(self) -> None:
        """New rows were committed; deliver them without waiting for the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``stop()``; survives any error of a single round."""
        interval = self.settings.outbox.poll_interval_seconds
        while not self._stopping.is_set():
            try:
                delivered = await self.run_once()
            except Exception:
                log.exception("outbox round failed; retrying")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    def stop(self) -> None:
        """Finish the current round and return from ``run``."""
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and deliver one batch of due rows; return how many were claimed."""
        now = self.clock.now()
        async with self.store.transaction() as repo:
            rows = await repo.claim_outbox(now, now + _CLAIM_LEASE, self.settings.outbox.batch_size)
        if rows:
            await asyncio.gather(*(self._deliver_slot(row) for row in rows))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> None:
        """Deliver until nothing is due now (tests and the CLI use it)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                return

    async def _deliver_slot(self, row: OutboxRow) -> None:
        async with self._slots:
            try:
                external = await self._deliver(row)
            except DeliveryError as exc:
                await self._failed(row, exc)
            except Exception as exc:  # a bug or an unexpected platform answer: retry, never crash
                log.exception("outbox delivery raised", extra={"outbox_id": row.id, "kind": row.kind})
                await self._failed(row, DeliveryError(f"internal error: {exc.__class__.__name__}"))
            else:
                await self._done(row, external)

    async def _deliver(self, row: OutboxRow) -> str | None:
        kind, _, name = row.destination.partition(":")
        if kind == "channel":
            return await self._send(row, name)
        surface = self.surfaces.get(name)
        if surface is None:
            raise PermanentDeliveryError(f"surface '{name}' is not running")
        try:
            return await self._to_surface(row, surface)
        except ThreadGone:
            async with self.store.transaction() as repo:
                await repo.forget_thread(row.conversation_id, name)
            log.warning("thread gone; recreating", extra={"outbox_id": row.id})
            return await self._to_surface(row, surface)

    async def _to_surface(self, row: OutboxRow, surface: Surface) -> str | None:
        async with self.store.transaction() as repo:
            conversation = await repo.conversation(row.conversation_id)
            card = await card_view(repo, conversation, self.settings)
            thread = await repo.thread_of(conversation.id, surface.name)
            post: PostView | None = None
            if row.kind == POST and row.message_id is not None:
                post = await post_view(repo, await repo.message(row.message_id), conversation)
            elif row.kind == NOTICE:
                post = PostView(
                    kind="notice",
                    author="Threadline",
                    text=str(row.payload.get("text", "")),
                    created_at=row.created_at,
                )
        chat_channel = self.settings.inbox(conversation.inbox).chat_channel
        await self._pace(surface, chat_channel)
        if thread is None:
            ref = await surface.create_thread(chat_channel, card)
            async with self.store.transaction() as repo:
                await repo.save_thread(
                    conversation.id,
                    surface.name,
                    ref.chat_channel,
                    ref.thread_id,
                    ref.card_id,
                    self.clock.now(),
                )
            if post is None:
                return ref.card_id
            await self._pace(surface, chat_channel)
        else:
            ref = ThreadRef(thread.chat_channel, thread.thread_id, thread.card_id)
            if post is None:
                await surface.update_card(ref, card)
                return ref.card_id
        assert post is not None
        return await surface.post(ref, post)

    async def _pace(self, surface: Surface, chat_channel: str) -> None:
        pace = self.paces.get(surface.name)
        if pace is not None:
            await self.pacer.wait(f"{surface.name}:{surface.pace_key(chat_channel)}", pace.rate, pace.burst)

    async def _send(self, row: OutboxRow, channel: str) -> str:
        sender = self.channels.get(channel)
        if sender is None:
            raise PermanentDeliveryError(f"channel '{channel}' is not configured")
        if row.message_id is None:
            raise PermanentDeliveryError("send row without a message")
        async with self.store.transaction() as repo:
            message = await repo.message(row.message_id)
            conversation = await repo.conversation(row.conversation_id)
            view = await outbound_view(repo, message, conversation, self.settings)
        return await sender.send(view)

    async def _done(self, row: OutboxRow, external: str | None) -> None:
        now = self.clock.now()
        async with self.store.transaction() as repo:
            stored = await repo.outbox_row(row.id)
            stored.status, stored.delivered_at, stored.external_ref = "done", now, external
            stored.last_error = None
            if row.kind == SEND and row.message_id is not None:
                message = await repo.message(row.message_id)
                conversation = await repo.conversation(row.conversation_id)
                message.external_id = external
                message.delivery_status = DeliveryStatus.SENT
                message.delivery_error = None
                inbox = self.settings.inbox(conversation.inbox)
                if not (message.meta or {}).get("auto_submitted"):  # an away message is no response
                    if conversation.first_response_at is None:
                        conversation.first_response_at = now
                    sla.recompute(conversation, sla.policy_for(inbox), now, sla.REPLIED)
                effects = Effects(repo, conversation, inbox, now)
                await effects.show(message)
                await effects.card_changed()
        if row.kind == SEND:
            self.notify()
        log.info(
            "delivered",
            extra={
                "outbox_id": row.id,
                "kind": row.kind,
                "destination": row.destination,
                "conversation_id": row.conversation_id,
            },
        )

    async def _failed(self, row: OutboxRow, error: DeliveryError) -> None:
        now = self.clock.now()
        outbox = self.settings.outbox
        attempts = row.attempts
        if error.retry_after is not None:
            attempts -= 1  # a rate limit is not the destination failing
            kind, _, name = row.destination.partition(":")
            if kind == "surface" and name in self.surfaces:
                self.pacer.penalise(name, error.retry_after)
        final = isinstance(error, PermanentDeliveryError) or attempts >= outbox.max_attempts
        async with self.store.transaction() as repo:
            stored = await repo.outbox_row(row.id)
            stored.attempts = attempts
            stored.last_error = error.reason[:2000]
            if not final:
                delay = error.retry_after
                if delay is None:
                    delay = min(
                        outbox.backoff_max_seconds, outbox.backoff_base_seconds * 2 ** max(0, attempts - 1)
                    )
                stored.next_attempt_at = now + timedelta(seconds=delay)
            else:
                stored.status = "failed"
                await self._show_failure(repo, row, error)
        level = logging.ERROR if final else logging.WARNING
        log.log(
            level,
            "delivery failed",
            extra={
                "outbox_id": row.id,
                "kind": row.kind,
                "final": final,
                "destination": row.destination,
                "reason": error.reason[:300],
            },
        )
        if final:
            self.notify()

    async def _show_failure(self, repo: Repository, row: OutboxRow, error: DeliveryError) -> None:
        conversation = await repo.conversation(row.conversation_id)
        effects = Effects(repo, conversation, self.settings.inbox(conversation.inbox), self.clock.now())
        if row.kind == SEND and row.message_id is not None:
            message = await repo.message(row.message_id)
            message.delivery_status = DeliveryStatus.FAILED
            message.delivery_error = error.reason[:2000]
            await effects.notice(
                f"⚠ The reply by {message.author_name} was not delivered: {error.reason}. "
                f"Fix the cause, then type {self.settings.threadline.command_prefix}retry."
            )
        elif row.kind in (POST, CARD):
            await effects.notice(f"⚠ Threadline could not update this thread: {error.reason}.")
