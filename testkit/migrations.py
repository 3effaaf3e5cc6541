"""Driving the schema migrations in tests: an Alembic command at a revision, and SQL on the database
as it stands between revisions (the ORM models describe only the head)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, text

from storage.db import sync_url
from storage.migrate import alembic_config

__all__ = ["alembic", "run_sql", "tables"]


def alembic(url: str, command: str, revision: str) -> Any:
    """Run Alembic's ``command`` (``upgrade``, ``downgrade``) to ``revision`` on the database at ``url``."""
    from alembic import command as alembic_command

    return getattr(alembic_command, command)(alembic_config(url), revision)


def run_sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run ``statements`` in one transaction; the rows of the last one (none if it returns none)."""
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    """The names of the tables in the database now."""
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
