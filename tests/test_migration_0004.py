"""Migration 0004 (intake journal): upgrade, back to 0003 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.migrate import upgrade
from testkit.migrations import alembic, tables


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert "journal" in tables(db_url)
    alembic(db_url, "downgrade", "0003")
    assert "journal" not in tables(db_url)
    await upgrade(db_url)
    assert "journal" in tables(db_url)
