"""The database server's clock: what instances sharing a PostgreSQL agree on (``bot.clock.DatabaseClock``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.db import Store

__all__ = ["database_now"]


async def database_now(store: Store) -> datetime:
    """The database's time now, aware UTC: PostgreSQL's ``clock_timestamp()``; on SQLite (one
    process on this machine, no server) this machine's clock."""
    if store.is_sqlite:
        return datetime.now(UTC)
    async with store.transaction() as uow:
        moment = (await uow.session.execute(select(func.clock_timestamp()))).scalar_one()
    return moment.astimezone(UTC)
