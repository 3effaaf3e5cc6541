"""Migration 0010 (report indexes): upgrade, back to 0005 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from storage.db import sync_url
from storage.migrate import upgrade
from testkit.migrations import alembic


def _audit_indexes(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return {str(index["name"]) for index in inspect(engine).get_indexes("audit_events")}
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert "ix_audit_created_action" in _audit_indexes(db_url)
    alembic(db_url, "downgrade", "0005")
    assert "ix_audit_created_action" not in _audit_indexes(db_url)
    assert "ix_audit_conversation" in _audit_indexes(db_url)
    await upgrade(db_url)
    assert "ix_audit_created_action" in _audit_indexes(db_url)
