"""Migration 0004 (intake journal): upgrade, back to 0003 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from storage.db import sync_url
from storage.migrate import alembic_config, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert "journal" in _tables(db_url)
    command.downgrade(alembic_config(db_url), "0003")
    assert "journal" not in _tables(db_url)
    await upgrade(db_url)
    assert "journal" in _tables(db_url)
