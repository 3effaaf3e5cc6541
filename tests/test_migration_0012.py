"""Migration 0012 (send records, outbox waits): up, back to 0010 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from storage.db import sync_url
from storage.migrate import upgrade
from tests.automation.test_migration_0003 import _alembic


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert {"send_records", "outbox_waits"} <= _tables(db_url)
    _alembic(db_url, "downgrade", "0010_compliance_indexes")
    assert not {"send_records", "outbox_waits"} & _tables(db_url)
    assert "outbox" in _tables(db_url)
    await upgrade(db_url)
    assert {"send_records", "outbox_waits"} <= _tables(db_url)
