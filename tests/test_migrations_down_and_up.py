"""Migrations 0003 (automation) and 0004 (insert sentinels): to head, to 0002, to head again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect

from storage.migrate import head_revision, upgrade

NEW_TABLES = {"contact_notes", "canned_templates", "csat_ratings", "redactions"}
SENTINEL_TABLES = ("outbox", "audit_events")


def _schema(url: str) -> tuple[set[str], set[str]]:
    """The table names, and which of SENTINEL_TABLES have the ``_sentinel`` column."""
    sync = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(sync)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        with_sentinel = {
            t for t in SENTINEL_TABLES if any(c["name"] == "_sentinel" for c in inspector.get_columns(t))
        }
        return tables, with_sentinel
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert head_revision() == "0004"
    tables, with_sentinel = _schema(db_url)
    assert tables >= NEW_TABLES and with_sentinel == set(SENTINEL_TABLES)
    _alembic(db_url, "downgrade", "0002")
    tables, with_sentinel = _schema(db_url)
    assert not NEW_TABLES & tables and not with_sentinel
    await upgrade(db_url)
    tables, with_sentinel = _schema(db_url)
    assert tables >= NEW_TABLES and with_sentinel == set(SENTINEL_TABLES)


def _alembic(url: str, command: str, revision: str) -> Any:
    from alembic import command as alembic_command

    from storage.migrate import alembic_config

    return getattr(alembic_command, command)(alembic_config(url), revision)
