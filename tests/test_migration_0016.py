"""Migration 0016 (contact uids): contacts stored before it get distinct uids, and a batch of new
contacts is written in one INSERT after it; upgrade, back to the revision before and up again, on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from storage.db import sync_url
from storage.migrate import upgrade
from tests.automation.test_migration_0003 import _alembic

PREVIOUS = "0011_mirror_repairs"  # the revision before 0016


def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
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


async def test_stored_contacts_get_distinct_uids(db_url: str) -> None:
    await upgrade(db_url)
    _alembic(db_url, "downgrade", PREVIOUS)
    _run(
        db_url,
        "INSERT INTO contacts (id, name, created_at) VALUES (1, 'A', '2026-01-01 00:00:00'),"
        " (2, 'B', '2026-01-01 00:00:00')",
        "INSERT INTO contact_identities (contact_id, kind, value) VALUES (1, 'email', 'a@x'),"
        " (2, 'email', 'b@x')",
    )
    await upgrade(db_url)
    for table in ("contacts", "contact_identities"):
        uids = _run(db_url, f"SELECT uid FROM {table}")
        assert len({u for (u,) in uids}) == 2
        assert all(isinstance(u, str) and len(u) == 32 for (u,) in uids)
    _alembic(db_url, "downgrade", PREVIOUS)
    assert _run(db_url, "SELECT name FROM contacts ORDER BY id") == [("A",), ("B",)]
    await upgrade(db_url)
