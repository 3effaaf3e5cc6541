"""Group commit: the outcomes of deliveries the platforms accepted, recorded many to a transaction.

A delivery that went through hands its outcome (``Delivered``: the row, the platform's id, the
thread it opened, the fingerprint of the card it sent) to ``GroupCommit`` and its lane goes on at
once; its delivery slot is held until the outcome is committed, so a crash catches at most the
dispatcher's concurrency of accepted, unrecorded deliveries. One writer commits everything handed
in meanwhile in one transaction: done marks, threads,
card fingerprints (one statement each for the whole group), then per row what a sent reply
changes (marked sent, SLA clocks, echo in the thread, card refresh) and a "sent after waiting"
notice. While it commits, new outcomes gather for the next group.

Nothing is acknowledged before it is committed, and the guarantees are those of a crash between
a platform's acceptance and the commit, as before: the row is still claimed, comes back after its
claim, and the retry finds what was sent (send records, committed per part as each part is
accepted, before the group; Slack metadata; Discord's nonce) instead of sending it again. A group
that fails to commit is recorded row by row, so one bad row does not hold back the others; a row
that still fails is logged and left to its claim. ``settle`` waits until everything handed in is
committed or given up (the dispatcher settles before it claims again), and raises the
``DatabaseUnavailable`` of a group the database failed under, so the dispatcher backs off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.effects import SEND
from bot.outbox.outcomes import record_sent
from bot.outbox.waits import sent_after_wait
from storage import Store
from storage.db import DatabaseUnavailable
from storage.models import OutboxRow
from storage.repo_cards import CardKey
from storage.repo_threads import NewThread

__all__ = ["Delivered", "GroupCommit"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    """A delivery the destination accepted, waiting to be recorded."""

    row: OutboxRow
    external: str | None  # the platform's id of what was delivered
    thread: NewThread | None = None  # the thread it opened (a new card)
    card: tuple[CardKey, str] | None = None  # (whose card, fingerprint) of the card it sent
    # False when its claim's batch read found its thread was never told it was queued (``waits``):
    # no "sent" notice follows, and its waits are not read again
    maybe_queued: bool = True


class GroupCommit:
    """Commits ``Delivered`` outcomes in groups; ``recorded`` runs after each group's commit, and
    ``release`` once per outcome when it is committed or given up (the dispatcher's delivery slot)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        recorded: Callable[[Sequence[Delivered]], Awaitable[None]],
        release: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.recorded = recorded
        self.release = release
        self._waiting: list[Delivered] = []
        self._writer: asyncio.Task[None] | None = None
        self._unavailable: DatabaseUnavailable | None = None  # raised by the next ``settle``

    def add(self, delivered: Delivered) -> None:
        """Record ``delivered`` with the next group (the writer starts if none is running)."""
        self._waiting.append(delivered)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_groups())

    async def settle(self) -> None:
        """Return once every outcome added so far is committed (or logged and left to its claim);
        raise ``DatabaseUnavailable`` when the database failed under a group since the last call."""
        while self._writer is not None:
            await asyncio.shield(self._writer)
        unavailable, self._unavailable = self._unavailable, None
        if unavailable is not None:
            raise unavailable

    async def _write_groups(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                await self._commit(group)
        finally:
            self._writer = None

    async def _commit(self, group: list[Delivered]) -> None:
        try:
            await self._commit_group(group)
        finally:
            for _ in group:
                self.release()

    async def _commit_group(self, group: list[Delivered]) -> None:
        try:
            await self._write(group)
        except DatabaseUnavailable as exc:  # the rows stay claimed and come back after the claim
            self._unavailable = exc
            return
        except Exception:
            if len(group) > 1:  # one bad row must not hold back the others
                for delivered in group:
                    await self._commit_group([delivered])
                return
            row = group[0].row
            log.exception("could not record a delivery", extra={"outbox_id": row.id, "kind": row.kind})
            return
        try:
            await self.recorded(group)
        except DatabaseUnavailable as exc:  # recorded; what follows a success (a heal) waits for the database
            self._unavailable = exc
        except Exception:
            log.exception("after recording deliveries", extra={"outbox_ids": [d.row.id for d in group]})

    async def _write(self, group: list[Delivered]) -> None:
        now = self.clock.now()
        async with self.store.transaction() as uow:
            await uow.outbox.mark_delivered_many([(d.row.id, d.external) for d in group], now)
            await uow.threads.save_threads([d.thread for d in group if d.thread is not None], now)
            await uow.cards.save_fingerprints(dict(d.card for d in group if d.card is not None), now)
            waits = await uow.sends.outbox_waits_of([d.row.id for d in group if d.maybe_queued])
            for delivered in group:
                row = delivered.row
                if row.kind == SEND and row.message_id is not None:
                    await record_sent(uow, self.settings, row, delivered.external, now)
                await sent_after_wait(uow, self.settings, row, waits.get(row.id), now)
