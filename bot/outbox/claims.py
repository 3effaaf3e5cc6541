"""Keeping outbox claims alive while their rows are being delivered.

A claim is short (``[ops] claim_seconds``, default 8 s) so that the rows of an instance that
died are taken over within seconds. While this instance still holds rows (waiting in a lane,
paced, or in flight at the platform), ``ClaimKeeper`` renews each claim every third of its length,
so a slow delivery is never taken over by another instance. A row whose claim was lost anyway
(the event loop stalled past the claim) is dropped from the keeper; ``Dispatcher`` checks the claim
again before it starts a delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta

from bot.clock import Clock
from storage import Store
from storage.db import DatabaseUnavailable
from storage.models import OutboxRow

__all__ = ["ClaimKeeper"]

log = logging.getLogger(__name__)


class ClaimKeeper:
    """Renews the claims of the outbox rows this instance holds until each is released."""

    def __init__(self, store: Store, clock: Clock, claim_seconds: float) -> None:
        self.store = store
        self.clock = clock
        self.claim = timedelta(seconds=claim_seconds)
        self._held: dict[int, OutboxRow] = {}

    def release(self, row: OutboxRow) -> None:
        """The row is done, failed, handed back or given up: stop renewing its claim."""
        self._held.pop(row.id, None)

    @contextlib.asynccontextmanager
    async def holding(self, rows: Iterable[OutboxRow]) -> AsyncIterator[None]:
        """Renew the claims of ``rows`` in the background while the block runs."""
        batch = list(rows)
        for row in batch:
            self._held[row.id] = row
        task = asyncio.create_task(self._renew_loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for row in batch:
                self._held.pop(row.id, None)

    async def still_claimed(self, row: OutboxRow) -> bool:
        """Before delivering: a claim with less than half its time left is renewed; one that ran out
        and was claimed by another instance meanwhile is given up (that instance delivers the row)."""
        now = self.clock.now()
        if row.next_attempt_at - now > self.claim / 2:
            return True  # no other instance can have claimed it yet
        async with self.store.transaction() as uow:
            kept = await uow.outbox.renew_outbox_claim(row.id, row.attempts, now + self.claim)
        if kept:
            row.next_attempt_at = now + self.claim
        else:
            log.info("outbox claim lost to another instance", extra={"outbox_id": row.id, "kind": row.kind})
        return kept

    async def _renew_loop(self) -> None:
        interval = self.claim.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except DatabaseUnavailable:  # the dispatcher reports the outage; the claims may lapse
                continue

    async def renew(self) -> None:
        """Extend every held claim to a full claim from now; drop the ones another instance took."""
        if not self._held:
            return
        until = self.clock.now() + self.claim
        lost: list[OutboxRow] = []
        async with self.store.transaction() as uow:
            for row in list(self._held.values()):
                if await uow.outbox.renew_outbox_claim(row.id, row.attempts, until):
                    row.next_attempt_at = until
                else:
                    lost.append(row)
        for row in lost:
            self._held.pop(row.id, None)
            log.info("outbox claim lost while held", extra={"outbox_id": row.id, "kind": row.kind})
