"""Migration 0016 (contact uids): contacts stored before it get distinct uids, and a batch of new
contacts is written in one INSERT after it; upgrade, back to the revision before and up again, on SQLite and
PostgreSQL."""

from __future__ import annotations

from storage.migrate import upgrade
from testkit.migrations import alembic, run_sql

PREVIOUS = "0011_mirror_repairs"  # the revision before 0016


async def test_stored_contacts_get_distinct_uids(db_url: str) -> None:
    await upgrade(db_url)
    alembic(db_url, "downgrade", PREVIOUS)
    run_sql(
        db_url,
        "INSERT INTO contacts (id, name, created_at) VALUES (1, 'A', '2026-01-01 00:00:00'),"
        " (2, 'B', '2026-01-01 00:00:00')",
        "INSERT INTO contact_identities (contact_id, kind, value) VALUES (1, 'email', 'a@x'),"
        " (2, 'email', 'b@x')",
    )
    await upgrade(db_url)
    for table in ("contacts", "contact_identities"):
        uids = run_sql(db_url, f"SELECT uid FROM {table}")
        assert len({u for (u,) in uids}) == 2
        assert all(isinstance(u, str) and len(u) == 32 for (u,) in uids)
    alembic(db_url, "downgrade", PREVIOUS)
    assert run_sql(db_url, "SELECT name FROM contacts ORDER BY id") == [("A",), ("B",)]
    await upgrade(db_url)
