"""SQLite reads off the event loop: the AsyncSession methods a read uses, run in one worker thread.

A digest or a report reads tens of thousands of rows; run inline (``storage.inline``) that
would stop the event loop, and with it acknowledgements, webhooks and health, for as long.
A read-only unit of work (``Store.snapshot``) instead runs every statement of its Session
in one dedicated thread (the connection is used by that thread only). SQLite releases the
GIL while it steps a statement and WAL readers never block the writer, so the loop keeps
answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Result
from sqlalchemy.orm import Session

from storage.inline import InlineSession

__all__ = ["ThreadedSession"]

T = TypeVar("T")


class ThreadedSession(InlineSession):
    """Awaitable ``execute``/``get`` over a blocking Session whose every call runs in ``executor``'s
    one thread; nothing is ever written (``add``, ``flush`` and ``delete`` refuse)."""

    def __init__(self, session: Session, executor: ThreadPoolExecutor) -> None:
        super().__init__(session)
        self._executor = executor

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` in the session's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]:
        """Run a statement in the session's thread; its rows are fetched there too."""
        frozen = await self.call(lambda: self.sync_session.execute(statement, params).freeze())
        return frozen()

    async def get(self, entity: Any, ident: Any) -> Any:
        """An object by primary key."""
        return await self.call(self.sync_session.get, entity, ident)

    def add(self, instance: object) -> None:
        """Refused: a snapshot only reads."""
        raise TypeError("a read-only snapshot cannot add rows; use Store.transaction()")

    async def flush(self) -> None:
        """Nothing to write (a snapshot never stages anything)."""

    async def delete(self, instance: object) -> None:
        """Refused: a snapshot only reads."""
        raise TypeError("a read-only snapshot cannot delete rows; use Store.transaction()")
