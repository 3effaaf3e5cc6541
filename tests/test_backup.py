"""Backups taken while Threadline writes, restored, hold every conversation (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.clock import ManualClock
from storage import Store
from storage.backup import BackupFailed, backup_database
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.servers import reset_postgres
from testkit.settings import make_settings
from threadline.app import Threadline


async def _count(url: str) -> int:
    store = Store(url)
    try:
        async with store.transaction() as uow:
            return await uow.conversations.count_conversations()
    finally:
        await store.close()


async def test_sqlite_backup_while_writing_is_a_consistent_copy(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    for i in range(20):
        await app.ingestor.ingest(
            email_in(sender=f"c{i}@example.org", external_id=f"<b{i}@x>", when=clock.now())
        )
    url = app.settings.threadline.database_url

    async def keep_writing() -> None:
        for i in range(20, 60):
            await app.ingestor.ingest(
                email_in(sender=f"c{i}@example.org", external_id=f"<b{i}@x>", when=clock.now())
            )

    writer = asyncio.create_task(keep_writing())
    seen: list[tuple[int, int]] = []
    done = await backup_database(
        url, tmp_path / "copy.db", lambda copied, total: seen.append((copied, total))
    )
    await writer
    assert done.kind == "sqlite" and done.size > 0 and seen and seen[-1][0] == seen[-1][1]
    restored = await _count(f"sqlite:///{done.path}")
    assert 20 <= restored <= 60  # one snapshot: everything before it, nothing half-written
    with pytest.raises(BackupFailed, match="exists already"):
        await backup_database(url, done.path)


async def test_postgres_backup_restores_with_pg_restore(
    pg_server: str, clock: ManualClock, tmp_path: Path
) -> None:
    from storage.migrate import upgrade

    url = pg_server
    reset_postgres(url)
    await upgrade(url)
    any_app = await started_app(make_settings(url, tmp_path / "out"), clock)
    for i in range(5):
        await any_app.ingestor.ingest(
            email_in(sender=f"p{i}@example.org", external_id=f"<p{i}@x>", when=clock.now())
        )
    done = await backup_database(url, tmp_path / "pg.dump")
    assert done.kind == "pg_dump"
    restore = shutil.which("pg_restore")
    assert restore is not None
    await any_app.stop()
    await asyncio.to_thread(reset_postgres, url)  # the database is lost
    restored = await asyncio.to_thread(
        subprocess.run,
        [restore, "--no-owner", f"--dbname={url}", str(done.path)],
        capture_output=True,
        text=True,
    )
    assert restored.returncode == 0, restored.stderr
    assert await _count(url) == 5


async def test_a_backup_of_an_unreachable_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupFailed, match="no SQLite database"):
        await backup_database(f"sqlite:///{tmp_path}/missing.db", tmp_path / "x.db")
    with pytest.raises(BackupFailed, match="pg_dump failed"):
        await backup_database("postgresql://nobody@127.0.0.1:1/none", tmp_path / "y.dump")
    assert not (tmp_path / "y.dump").exists()
