"""Group commit: work items submitted concurrently share one transaction.

Each ``submit`` waits for its own result. Items that arrive while a transaction is
being written go into the next one (up to ``max_batch``), so a burst (an IMAP
catch-up, a webhook storm) pays for one commit per batch instead of one per item,
while a lone item is written at once. If a batch fails as a whole (a unique-key
race, a bug in one item), its items are retried one per transaction, so one bad
item never takes others down with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from storage import Conflict, Store, UnitOfWork

__all__ = ["GroupCommitter"]

Item = TypeVar("Item")
Result = TypeVar("Result")
_CONFLICT_RETRIES = 3


class GroupCommitter(Generic[Item, Result]):
    """Runs ``process(uow, items)`` (one result per item, in order) over many items per transaction."""

    def __init__(
        self,
        store: Store,
        process: Callable[[UnitOfWork, Sequence[Item]], Awaitable[list[Result]]],
        max_batch: int = 64,
    ) -> None:
        self.store = store
        self.process = process
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write ``item`` (with whatever else is waiting) and return its result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await asyncio.shield(future)

    async def idle(self) -> None:
        """Return once nothing is waiting to be written or being written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer})

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            try:
                async with self.store.transaction() as uow:
                    results = await self.process(uow, [item for item, _ in batch])
            except Exception:
                for item, future in batch:
                    await self._alone(item, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _alone(self, item: Item, future: asyncio.Future[Result]) -> None:
        for attempt in range(_CONFLICT_RETRIES):
            try:
                async with self.store.transaction() as uow:
                    (result,) = await self.process(uow, [item])
            except Conflict as exc:  # another writer created the same row first: look again
                if attempt == _CONFLICT_RETRIES - 1:
                    future.set_exception(exc)
                    return
            except Exception as exc:
                future.set_exception(exc)
                return
            else:
                future.set_result(result)
                return
