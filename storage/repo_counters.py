"""Counters: conversation numbers reserved in blocks, and stored positions (round-robin turns)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update

from storage.models import (
    Counter,
)
from storage.repo_base import RepositoryBase

__all__ = ["CounterRepository"]

_COUNTERS = cast(Table, Counter.__table__)  # Core UPDATEs: no ORM bookkeeping over the session's objects


class CounterRepository(RepositoryBase):
    """Named counters in the ``counters`` table, each updated with one locked statement."""

    async def take_numbers(self, count: int, name: str = "conversation") -> int:
        """Reserve ``count`` consecutive numbers of a counter and return the first.

        The counter row stays locked until the transaction ends (PostgreSQL row lock,
        SQLite's single writer), so a reservation is never interleaved with another.
        """
        counters = _COUNTERS
        result = await self.session.execute(
            update(counters)
            .where(counters.c.name == name)
            .values(value=counters.c.value + count)
            .returning(counters.c.value)
        )
        end = result.scalar_one_or_none()
        if end is None:
            self.session.add(Counter(name=name, value=count))
            await self.session.flush()
            return 1
        return int(end) - count + 1

    async def return_numbers(self, first_unused: int, end: int, name: str = "conversation") -> None:
        """Give back the unused tail ``first_unused..end`` of the reservation that ended at ``end``."""
        counters = _COUNTERS
        await self.session.execute(
            update(counters)
            .where(counters.c.name == name, counters.c.value == end)
            .values(value=first_unused - 1)
        )

    async def pointer(self, name: str) -> int | None:
        """A stored position (the last round-robin pick of a team), locked for this transaction."""
        stmt = select(Counter.value).where(Counter.name == name)
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def set_pointer(self, name: str, value: int) -> None:
        """Store a position."""
        result = await self.session.execute(update(Counter).where(Counter.name == name).values(value=value))
        if result.rowcount == 0:
            self.session.add(Counter(name=name, value=value))
            await self.session.flush()
