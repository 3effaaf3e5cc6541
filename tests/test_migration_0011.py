"""Migration 0011 (mirror repairs): upgrade, back to 0010 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from storage.db import sync_url
from storage.migrate import upgrade
from testkit.migrations import alembic


def _tables(url: str) -> dict[str, set[str]]:
    engine = create_engine(sync_url(url))
    try:
        found = inspect(engine)
        return {
            name: {str(index["name"]) for index in found.get_indexes(name)}
            for name in found.get_table_names()
        }
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert "ix_mirror_repair_scope" in _tables(db_url)["mirror_repairs"]
    alembic(db_url, "downgrade", "0010_compliance_indexes")
    assert "mirror_repairs" not in _tables(db_url)
    assert "ix_audit_created_action" in _tables(db_url)["audit_events"]
    await upgrade(db_url)
    assert "ix_mirror_repair_scope" in _tables(db_url)["mirror_repairs"]
