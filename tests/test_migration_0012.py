"""Migration 0012 (send records, outbox waits): up, back to 0010 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.migrate import upgrade
from testkit.migrations import alembic, tables


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert {"send_records", "outbox_waits"} <= tables(db_url)
    alembic(db_url, "downgrade", "0010_compliance_indexes")
    assert not {"send_records", "outbox_waits"} & tables(db_url)
    assert "outbox" in tables(db_url)
    await upgrade(db_url)
    assert {"send_records", "outbox_waits"} <= tables(db_url)
