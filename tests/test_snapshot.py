"""Long reads off the event loop: ``Store.snapshot`` runs SQLite statements in a worker thread (the
loop keeps answering meanwhile) and writes nothing; the planner's statistics on start and hourly."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from storage import Store
from storage.migrate import upgrade
from storage.models import Contact
from storage.planner import refresh_statistics
from testkit.settings import make_settings
from threadline.app import Threadline

SLOW = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n"
)


async def test_a_long_read_leaves_the_loop_answering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    await upgrade(url)
    store = Store(url)
    ticks = 0
    reading = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        await reading.wait()
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    try:
        async with store.snapshot() as uow:
            reading.set()
            await asyncio.sleep(0)
            before = ticks
            assert (await uow.session.execute(SLOW)).scalar_one() == 3000000
            during = ticks - before
        async with store.transaction() as uow:  # inline, as every write: the loop waits for it
            reading.clear()
            before = ticks
            (await uow.session.execute(SLOW)).scalar_one()
            inline = ticks - before
    finally:
        task.cancel()
        await store.close()
    assert during >= 3  # the ticker ran while the statement was being stepped in the worker thread
    assert inline <= 1


async def test_a_snapshot_reads_in_its_own_thread_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    await upgrade(url)
    store = Store(url)
    threads: list[str] = []
    assert store._sync_engine is not None
    event.listen(
        store._sync_engine,
        "before_cursor_execute",
        lambda *_: threads.append(threading.current_thread().name),
    )
    try:
        async with store.snapshot() as uow:
            assert await uow.conversations.count_conversations() == 0
            with pytest.raises(TypeError, match="read-only snapshot"):
                uow.add(Contact(name="Nobody"))
    finally:
        await store.close()
    assert threads and all(name.startswith("threadline-read") for name in threads)


async def test_a_snapshot_on_postgresql_reads(pg_server: str) -> None:
    from testkit.servers import reset_postgres

    reset_postgres(pg_server)
    await upgrade(pg_server)
    store = Store(pg_server)
    try:
        async with store.snapshot() as uow:
            assert await uow.conversations.count_conversations() == 0
    finally:
        await store.close()


async def test_sqlite_is_analysed_on_start_and_refreshed_hourly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    app = Threadline(make_settings(url, tmp_path))
    await app.start()
    try:
        job = app._scheduler.get_job("planner-statistics")
        assert job is not None and job.trigger.interval.total_seconds() == 3600
        assert await refresh_statistics(app.store) == "PRAGMA optimize"  # analysed once already
    finally:
        await app.stop()
    engine = create_engine(url)
    with engine.connect() as db:
        tables = {row[0] for row in db.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    engine.dispose()
    assert "sqlite_stat1" in tables


async def test_postgresql_is_left_to_autovacuum(pg_server: str, tmp_path: Path) -> None:
    app = Threadline(make_settings(pg_server, tmp_path))
    try:
        assert await refresh_statistics(app.store) is None
        assert app._scheduler.get_job("planner-statistics") is None
    finally:
        await app.store.close()
