"""Migration 0003 (automation): upgrade to head and back to 0002 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.migrate import head_revision, upgrade
from testkit.migrations import alembic, tables

NEW_TABLES = {"contact_notes", "canned_templates", "csat_ratings"}  # its "redactions" went in 0013


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    assert (head_revision() or "") >= "0003"  # later revisions build on it
    assert tables(db_url) >= NEW_TABLES
    alembic(db_url, "downgrade", "0002")
    assert not NEW_TABLES & tables(db_url)
    await upgrade(db_url)
    assert tables(db_url) >= NEW_TABLES
