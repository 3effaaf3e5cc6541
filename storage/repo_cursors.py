"""Channel cursors (how far a mailbox or a channel was read) and the event ids already handled."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import (
    ChannelCursorRow,
    ProcessedEvent,
)
from storage.repo_base import RepositoryBase

__all__ = ["CursorRepository"]

_CURSORS = cast(Table, ChannelCursorRow.__table__)


class CursorRepository(RepositoryBase):
    """Channel cursors and processed event ids."""

    async def cursor(self, key: str) -> str | None:
        """A channel cursor's value."""
        stmt = select(_CURSORS.c.value).where(_CURSORS.c.key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def save_cursor(self, key: str, value: str, now: datetime) -> None:
        """Set a channel cursor: one INSERT … ON CONFLICT statement, no ORM object."""
        insert = sqlite_insert if self.dialect == "sqlite" else postgresql_insert
        stmt = insert(_CURSORS).values(key=key, value=value, updated_at=now)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[_CURSORS.c.key], set_={"value": value, "updated_at": now}
            )
        )

    async def first_time(self, key: str, now: datetime) -> bool:
        """Record an event key; False when it was already recorded (a redelivery)."""
        if await self.session.get(ProcessedEvent, key) is not None:
            return False
        self.session.add(ProcessedEvent(key=key, created_at=now))
        await self.session.flush()
        return True
