"""The test kit's schema copies (testkit/schema.py) give the very schema the migrations give."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import storage.migrate
from storage.db import sync_url
from testkit.schema import SchemaCopies
from testkit.servers import PG_ADMIN_URL


def _schema(url: str) -> dict[str, Any]:
    """Every table's columns, indexes, keys and checks, and the Alembic revision, as plain data."""
    engine = create_engine(sync_url(url))
    try:
        found = inspect(engine)
        tables: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            tables[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in found.get_columns(table)
                ],
                "primary": found.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"] or "", tuple(map(str, i["column_names"])), bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
                "foreign": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                    for f in found.get_foreign_keys(table)
                ),
                "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
                "checks": sorted(str(c["sqltext"]) for c in found.get_check_constraints(table)),
            }
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return {"tables": tables, "revision": revision}
    finally:
        engine.dispose()


def test_a_copied_schema_is_the_migrated_schema(db_url: str, tmp_path: Path) -> None:
    installed = storage.migrate._upgrade_sync
    assert isinstance(installed, SchemaCopies)  # tests/conftest.py installs it for the whole session
    migrated: list[str] = []

    def real(url: str, on_step: Callable[[int, int], None] | None) -> None:
        migrated.append(url)
        installed.migrate(url, on_step)

    SchemaCopies(tmp_path / "copies", real)(db_url)
    assert len(migrated) == 1 and migrated[0] != db_url  # migrated a scratch database, copied into db_url
    copied = _schema(db_url)
    assert copied["tables"] and copied["revision"] == [storage.migrate.head_revision()]

    if db_url.startswith("sqlite"):
        installed.migrate(f"sqlite:///{tmp_path}/migrated.db", None)
        assert copied == _schema(f"sqlite:///{tmp_path}/migrated.db")
        return
    name = f"threadline_migrated_{uuid.uuid4().hex[:8]}"
    second = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            installed.migrate(second, None)
            assert copied == _schema(second)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
