"""The query planner's statistics: SQLite gets them on start and keeps them fresh; PostgreSQL's
autovacuum analyses tables itself.

Without statistics SQLite guesses every index equally selective and can pick one by its
leading column alone. ``ANALYZE`` (on start, when the file was never analysed) and
``PRAGMA optimize`` (on start and periodically: it re-analyses the tables that changed a
lot since) keep the plans right. ``analysis_limit`` (set on every connection,
``storage.db``) bounds each index's sample, so this takes milliseconds, not a table scan.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Store

__all__ = ["refresh_statistics"]


async def refresh_statistics(store: Store) -> str | None:
    """Analyse an SQLite database that never was, else ``PRAGMA optimize``; which ran (None on
    PostgreSQL, where autovacuum does it)."""
    if not store.is_sqlite:
        return None
    async with store.transaction() as uow:
        analysed = (
            await uow.session.execute(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
            )
        ).scalar_one()
        statement = "PRAGMA optimize" if analysed else "ANALYZE"
        await uow.session.execute(text(statement))
    return statement
