"""The intake journal: inbound deliveries are stored before they are acknowledged, then processed once.

Adapters call ``Journal.record(source, payload)`` before they answer the platform (the
WhatsApp webhook's 200, Slack's ack): the call returns once the raw payload is committed.
Concurrent calls share one transaction (``bot.ingest.batching``), so a burst costs one commit per
batch and acknowledgements stay fast. After ``close()`` (a graceful stop) ``record`` raises
``IntakeClosed`` and the adapter answers "busy, retry later".

The worker claims pending entries (a claim runs out, so another instance or a restart takes
over the entries of one that died), hands each to the handler registered for its source,
and marks it done. A handler whose effect is an ingest passes the entry's id on
(``InboundMessage.journal_id``) so ingest marks it done in the same transaction as the
stored message: a crash at any moment leaves either both or neither. A handler that fails
is retried with backoff; ``BadEntry`` (or too many failures) keeps the entry as ``failed``
with its error, and the entries after it go on.

Entries recorded with one ordering key (``record(..., order=...)``: a Slack channel, a WhatsApp
sender, a Discord DM channel) are processed one after another in the order they were journaled;
entries of different keys run concurrently. An entry that fails holds the later entries of its
key (in the batch, and in the claims, until it is done or kept as failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.ingest.batching import GroupCommitter
from bot.runtime import faults
from storage import Store, UnitOfWork
from storage.journal import JournalEntry, JournalRow

__all__ = ["BadEntry", "IntakeClosed", "Journal", "JournalHandler", "JournalItem"]

log = logging.getLogger(__name__)

_BACKOFF_MAX_SECONDS = 300.0
_PRUNE_EVERY = timedelta(hours=1)
_BUSY_WINDOW_SECONDS = 0.2  # a delivery recorded this recently means intake is busy
_BUSY_PAUSE_SECONDS = 0.05
_MAX_DEFER_SECONDS = 2.0  # during a long burst, entries this old are processed anyway, in small batches


class IntakeClosed(Exception):
    """The instance is stopping: new deliveries are refused so the platform retries them elsewhere."""


class BadEntry(Exception):
    """A journal entry that can never be processed (not JSON, unknown shape); kept as failed."""


@dataclass(frozen=True)
class JournalItem:
    """One journal entry handed to its handler: the raw payload as received."""

    id: int
    source: str
    payload: bytes
    received_at: datetime
    attempts: int


JournalHandler = Callable[[JournalItem], Awaitable[None]]
"""Processes one entry; raises to have it retried (``BadEntry``: never)."""


class Journal:
    """Group-committed recording of inbound deliveries and the worker that processes them."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        holder: str,
        *,
        claim_seconds: float = 10.0,
        max_attempts: int = 5,
        batch: int = 256,
        busy_batch: int = 8,
        poll_seconds: float = 1.0,
        keep_done: timedelta = timedelta(days=7),
    ) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.claim = timedelta(seconds=claim_seconds)
        self.max_attempts = max_attempts
        self.batch = batch
        self.busy_batch = busy_batch
        self.poll_seconds = poll_seconds
        self.keep_done = keep_done
        self._pruned_at: datetime | None = None
        self._writer: GroupCommitter[JournalRow, None] = GroupCommitter(store, self._append, max_batch=512)
        self._handlers: dict[str, JournalHandler] = {}
        self._accepting = True
        self._wake = asyncio.Event()
        self._rounds = asyncio.Condition()
        self._empty_rounds = 0
        self._task: asyncio.Task[None] | None = None
        self._last_record = 0.0
        self._backlog_since: float | None = None  # when the first entry not yet processed was recorded

    @property
    def accepting(self) -> bool:
        """False once ``close()`` was called."""
        return self._accepting

    def handle(self, source: str, handler: JournalHandler) -> None:
        """Register the handler of entries of ``source`` (``whatsapp``, ``slack`` …)."""
        self._handlers[source] = handler

    async def record(
        self, source: str, payload: bytes, key: str | None = None, order: str | None = None
    ) -> None:
        """Commit ``payload`` to the journal; return only once it is durable.

        ``key`` (a platform delivery id) makes a redelivery of the same key a no-op. ``order`` (an
        ordering key) has the entry processed after the earlier entries of its source with that key.
        Raises ``IntakeClosed`` while stopping, and the database's error when it is down.
        """
        if not self._accepting:
            raise IntakeClosed("stopping: not accepting new deliveries")
        self._last_record = asyncio.get_running_loop().time()
        if self._backlog_since is None:
            self._backlog_since = self._last_record
        await self._writer.submit(JournalRow(source, key, order, payload))
        faults.hit("journaled")  # committed, not yet acknowledged
        self._wake.set()

    async def _append(self, uow: UnitOfWork, rows: Sequence[JournalRow]) -> list[None]:
        await uow.journal.append(rows, self.clock.now())
        return [None] * len(rows)

    # --- the worker ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take back this instance's earlier claims and start the worker."""
        if self._task is not None:
            return
        async with self.store.transaction() as uow:
            await uow.journal.release(self.holder)
        self._task = asyncio.create_task(self._run(), name="journal-worker")

    async def close(self) -> None:
        """Refuse new deliveries from now on; wait until those being recorded are committed."""
        self._accepting = False
        await self._writer.idle()

    async def drain(self, grace_seconds: float) -> bool:
        """Close intake, process what is pending (up to ``grace_seconds``), stop the worker.

        True when everything claimable was processed; what is left stays pending for the next start.
        """
        await self.close()
        drained = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self.idle(), grace_seconds)
            except TimeoutError:
                drained = False
                log.warning(
                    "journal not drained at shutdown; the rest is processed at the next start",
                    extra={"grace_seconds": grace_seconds},
                )
            await self.stop()
        return drained

    async def stop(self) -> None:
        """Stop the worker (an entry half-way is processed again later: its effect was not committed)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(Exception):
                async with self.store.transaction() as uow:
                    await uow.journal.release(self.holder)

    async def idle(self) -> None:
        """Return once everything recorded so far has been processed (a worker round found nothing).

        Without a running worker (tests that drive the parts by hand) the entries are processed here.
        """
        await self._writer.idle()
        if self._task is None:
            while await self.run_once():
                pass
            return
        async with self._rounds:
            seen = self._empty_rounds
            self._wake.set()
            await self._rounds.wait_for(lambda: self._empty_rounds > seen)

    async def _run(self) -> None:
        failing = False
        while True:
            if self._deferring():
                await asyncio.sleep(_BUSY_PAUSE_SECONDS)
                continue
            try:
                processed = await self.run_once()
            except Exception as exc:
                if not failing:
                    log.error(
                        "journal worker cannot reach the database; retrying",
                        extra={"error": exc.__class__.__name__},
                    )
                failing, processed = True, 0
                await asyncio.sleep(self.poll_seconds)
                continue
            if failing:
                log.info("journal worker running again")
                failing = False
            if processed:
                if self._intake_busy():
                    await asyncio.sleep(_BUSY_PAUSE_SECONDS)  # let acknowledgements through first
                continue
            self._backlog_since = None
            await self._prune()
            async with self._rounds:
                self._empty_rounds += 1
                self._rounds.notify_all()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def quiet(self) -> None:
        """Return once no burst of deliveries is arriving (other work yields to acknowledgements)."""
        for _ in range(int(_MAX_DEFER_SECONDS / _BUSY_PAUSE_SECONDS)):  # a long burst: go on after 2 s
            if not self._accepting or not self._intake_busy():
                return
            await asyncio.sleep(_BUSY_PAUSE_SECONDS)

    def _intake_busy(self) -> bool:
        return asyncio.get_running_loop().time() - self._last_record < _BUSY_WINDOW_SECONDS

    def _deferring(self) -> bool:
        """During a burst, processing waits (acknowledgements first) unless its backlog got too old."""
        if not self._accepting or not self._intake_busy() or self._backlog_since is None:
            return False
        return asyncio.get_running_loop().time() - self._backlog_since < _MAX_DEFER_SECONDS

    async def run_once(self) -> int:
        """Claim a batch of pending entries and process them; how many were claimed.

        While deliveries are arriving the batches are small: processing shares the event loop
        (and SQLite's one writer) with the acknowledgements, which must stay fast.
        """
        now = self.clock.now()
        limit = self.busy_batch if self._intake_busy() else self.batch
        async with self.store.transaction() as uow:
            entries = await uow.journal.claim(self.holder, now, now + self.claim, limit)
            lines = _lines(entries)
        if not lines:
            return 0
        faults.hit("journal_claimed")
        results = await asyncio.gather(*(self._run_line(line) for line in lines))
        finished = [entry_id for done, _ in results for entry_id in done]
        held = [entry_id for _, waiting in results for entry_id in waiting]
        if finished or held:
            async with self.store.transaction() as uow:
                # entries whose effect did not mark them done itself (statuses, ignored ones)
                await uow.journal.finish(finished, self.clock.now())
                await uow.journal.release_rows(held)  # claimed again once their key's failed entry is through
        return len(entries)

    async def _run_line(self, line: list[JournalItem]) -> tuple[list[int], list[int]]:
        """Process one key's entries in order; stop at a failure. (Finished ids, ids left for later.)"""
        finished: list[int] = []
        for position, item in enumerate(line):
            if not await self._process(item):
                return finished, [later.id for later in line[position + 1 :]]
            finished.append(item.id)
        return finished, []

    async def _prune(self) -> None:
        """Once an hour, forget entries done longer ago than ``keep_done`` (failed ones stay)."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            async with self.store.transaction() as uow:
                pruned = await uow.journal.prune(now - self.keep_done)
        except Exception:
            log.warning("pruning the journal failed; trying again in an hour")
            return
        if pruned:
            log.info("journal pruned", extra={"entries": pruned})

    async def _process(self, item: JournalItem) -> bool:
        handler = self._handlers.get(item.source)
        if handler is None:
            await self._defer(item, f"nothing handles journal entries of source {item.source!r}", final=True)
            return False
        try:
            await handler(item)
        except BadEntry as exc:
            log.warning(
                "journal entry cannot be processed; kept as failed",
                extra={"entry": item.id, "source": item.source, "error": str(exc)[:200]},
            )
            await self._defer(item, str(exc), final=True)
            return False
        except Exception as exc:
            final = item.attempts + 1 >= self.max_attempts
            log.warning(
                "journal entry failed",
                exc_info=True,
                extra={"entry": item.id, "source": item.source, "attempt": item.attempts + 1, "final": final},
            )
            await self._defer(item, f"{exc.__class__.__name__}: {exc}", final=final)
            return False
        return True

    async def _defer(self, item: JournalItem, error: str, *, final: bool) -> None:
        delay = min(_BACKOFF_MAX_SECONDS, 2.0 ** (item.attempts + 1))
        retry_at = None if final else self.clock.now() + timedelta(seconds=delay)
        try:
            async with self.store.transaction() as uow:
                await uow.journal.defer(item.id, error, retry_at)
        except Exception:  # the claim runs out and the entry is tried again
            log.warning("could not record a journal failure", extra={"entry": item.id})


def _lines(entries: Sequence[JournalEntry]) -> list[list[JournalItem]]:
    """Claimed entries as lines: one per (source, ordering key), in journal order; one each without a key."""
    lines: dict[object, list[JournalItem]] = {}
    for e in entries:
        item = JournalItem(e.id, e.source, e.payload, e.received_at, e.attempts)
        lines.setdefault((e.source, e.ordering_key) if e.ordering_key is not None else e.id, []).append(item)
    return list(lines.values())
