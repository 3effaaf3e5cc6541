"""A pooled PostgreSQL connection the server dropped is replaced, not handed to a unit of work.

Connections that sat idle are checked (one round trip) before use; a busy connection is not, so
a transaction pays no extra round trip while work keeps the pool busy (docs/benchmarks.md). The
server's side is real: ``pg_terminate_backend`` ends every connection of the store's database.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storage import db as storage_db
from storage.db import DatabaseUnavailable, Store
from storage.migrate import upgrade
from testkit.servers import PG_ADMIN_URL


def _terminate_backends(url: str) -> int:
    """End every server connection to the database of ``url``; how many were ended."""
    name = make_url(url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


async def test_connections_dropped_while_idle_are_replaced(
    pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await upgrade(pg_server)
    monkeypatch.setattr(storage_db, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as after idle
    store = Store(pg_server)
    try:
        assert await store.ping()
        assert _terminate_backends(pg_server) >= 1
        assert await store.ping()  # the dropped connection was pinged, found dead and replaced
    finally:
        await store.close()


async def test_a_busy_connection_dropped_fails_one_unit_of_work_then_reconnects(
    pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await upgrade(pg_server)
    monkeypatch.setattr(storage_db, "IDLE_PING_SECONDS", 3600.0)  # never idle long enough to be pinged
    store = Store(pg_server)
    try:
        assert await store.ping()
        assert _terminate_backends(pg_server) >= 1
        with pytest.raises(DatabaseUnavailable):  # the unit of work that met the dropped connection
            async with store.transaction() as uow:
                await uow.ping()
        assert await store.ping()  # the pool let go of it: the next one connects afresh
    finally:
        await store.close()
