"""Write-only rows of a unit of work (audit events, outbox rows), inserted with Core after the ORM flush.

Nothing reads these rows back as objects in the transaction that writes them, and
building them as ORM objects was a large share of an ingest batch (docs/benchmarks.md).
So they are staged as plain values, with references to the ORM objects whose ids
they need (a conversation or message staged in the same unit of work), and inserted
with one executemany per table once those objects are flushed.

They follow the ORM's autoflush rule: a query writes them first (so an UPDATE of
pending outbox rows sees them), except inside ``no_autoflush``, where only an explicit
flush or the commit does (ingest batches).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["StagedRow", "StagingSession"]


class StagedRow:
    """Values of one row, and the ORM objects whose ``id`` fills some of its columns."""

    __slots__ = ("parents", "values")

    def __init__(self, values: dict[str, Any], parents: dict[str, Any]) -> None:
        self.values = values
        self.parents = parents

    def resolved(self) -> dict[str, Any]:
        """The values with each parent's id filled in."""
        row = dict(self.values)
        for column, parent in self.parents.items():
            row[column] = parent.id if parent is not None else None
        return row


class StagingSession:
    """The session of a unit of work: the ORM session, plus staged Core rows written at flush time."""

    def __init__(self, session: AsyncSession) -> None:
        self.orm = session
        self._staged: dict[Table, list[StagedRow]] = {}

    def stage(self, table: Table, values: dict[str, Any], **parents: Any) -> None:
        """Stage a row of ``table``; ``parents`` map a column to the object whose id it takes."""
        self._staged.setdefault(table, []).append(StagedRow(values, parents))

    def staged(self, table: Table) -> Iterator[StagedRow]:
        """The rows of ``table`` staged and not yet written."""
        return iter(self._staged.get(table, ()))

    @property
    def new(self) -> Any:
        """ORM objects added and not yet flushed."""
        return self.orm.new

    @property
    def dirty(self) -> Any:
        """Stored ORM objects changed and not yet flushed."""
        return self.orm.dirty

    @property
    def no_autoflush(self) -> Any:
        """A context in which queries write nothing first."""
        return self.orm.no_autoflush

    def add(self, instance: object) -> None:
        """Stage an ORM object."""
        self.orm.add(instance)

    async def delete(self, instance: object) -> None:
        """Mark an ORM object for deletion."""
        await self.orm.delete(instance)

    async def execute(self, statement: Any, params: Any = None) -> Any:
        """Run a statement, writing staged rows first unless autoflush is off."""
        if self._staged and self.orm.autoflush:
            await self.flush()
        return await self.orm.execute(statement, params)

    async def get(self, entity: Any, ident: Any) -> Any:
        """An ORM object by primary key (staged rows are written first, as for a query)."""
        if self._staged and self.orm.autoflush:
            await self.flush()
        return await self.orm.get(entity, ident)

    async def flush(self) -> None:
        """Flush ORM objects, then insert the staged rows (one executemany per table)."""
        await self.orm.flush()
        staged, self._staged = self._staged, {}
        for table, rows in staged.items():
            await self.orm.execute(table.insert(), [row.resolved() for row in rows])
