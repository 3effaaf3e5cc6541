"""SQLite in the event loop: the AsyncSession methods the repositories use, over a blocking Session.

An SQLite statement takes tens of microseconds, while handing it to aiosqlite's
thread and back costs ten times that; so the embedded database runs its statements
inline. This is safe because SQLite here is single-process (several instances need
PostgreSQL, which keeps the fully asynchronous driver): WAL readers never block the
writer, and this process's writers are serialised by ``Store``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result
from sqlalchemy.orm import Session

__all__ = ["InlineSession"]


class InlineSession:
    """Awaitable ``execute``/``get``/``flush``/``delete`` and plain ``add`` over a blocking Session."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    @property
    def no_autoflush(self) -> Any:
        """A context in which queries do not flush pending changes first."""
        return self.sync_session.no_autoflush

    @property
    def autoflush(self) -> bool:
        """Whether queries flush pending changes first (off inside ``no_autoflush``)."""
        return bool(self.sync_session.autoflush)

    @property
    def new(self) -> Any:
        """Objects staged and not yet flushed."""
        return self.sync_session.new

    @property
    def dirty(self) -> Any:
        """Stored objects changed and not yet flushed."""
        return self.sync_session.dirty

    def add(self, instance: object) -> None:
        """Stage an object."""
        self.sync_session.add(instance)

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]:
        """Run a statement now."""
        return self.sync_session.execute(statement, params)

    async def get(self, entity: Any, ident: Any) -> Any:
        """An object by primary key."""
        return self.sync_session.get(entity, ident)

    async def flush(self) -> None:
        """Write pending changes."""
        self.sync_session.flush()

    async def delete(self, instance: object) -> None:
        """Mark an object for deletion."""
        self.sync_session.delete(instance)
