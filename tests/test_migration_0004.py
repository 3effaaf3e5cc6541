"""Migration 0004 (intake journal): upgrade, back to 0003 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.migrate import upgrade
from tests.automation.test_migration_0003 import _alembic, _tables


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert "journal" in _tables(db_url)
    _alembic(db_url, "downgrade", "0003")
    assert "journal" not in _tables(db_url)
    await upgrade(db_url)
    assert "journal" in _tables(db_url)
