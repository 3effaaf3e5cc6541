"""Migration 0003 (automation): upgrade to head and back to 0002 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect

from storage.migrate import head_revision, upgrade

NEW_TABLES = {"contact_notes", "canned_templates", "csat_ratings"}  # its "redactions" went in 0013


def _tables(url: str) -> set[str]:
    sync = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(sync)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert (head_revision() or "") >= "0003"  # later revisions build on it
    assert _tables(db_url) >= NEW_TABLES
    _alembic(db_url, "downgrade", "0002")
    assert not NEW_TABLES & _tables(db_url)
    await upgrade(db_url)
    assert _tables(db_url) >= NEW_TABLES


def _alembic(url: str, command: str, revision: str) -> Any:
    from alembic import command as alembic_command

    from storage.migrate import alembic_config

    return getattr(alembic_command, command)(alembic_config(url), revision)
