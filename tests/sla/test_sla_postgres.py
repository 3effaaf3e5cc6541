"""Migrations on SQLite and PostgreSQL; exactly-once reminders and digests, two instances on one PostgreSQL.

The PostgreSQL tests use the session database of ``tests/conftest.py`` (skipped with a reason when the
server is unreachable, failed when THREADLINE_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, select

from bot.clock import ManualClock
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import OutboxRow, ReminderSent
from testkit.app import started_app
from testkit.sla import mail, sla_settings
from threadline.app import Threadline


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


@pytest.fixture
def pg_url(pg_server: str) -> str:
    _reset(pg_server)
    return pg_server


async def test_migration_0002_up_down_up(db_url: str) -> None:
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0001")  # through 0002's downgrade
    assert await current_revision(db_url) == "0001"
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "0002")
    assert await current_revision(db_url) == "0002"
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()


async def _count(app: Threadline, model: type, **where: object) -> int:
    async with app.store.transaction() as uow:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_two_instances_on_one_postgres_fire_each_reminder_once(
    pg_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(pg_url)
    settings = sla_settings(pg_url, tmp_path / "out").settings()
    one = await started_app(settings, clock)
    two = await started_app(settings, clock)
    try:
        for i in range(30):
            await one.ingestor.ingest(mail(when=clock.now(), sender=f"c{i}@example.org"))
        clock.advance(timedelta(minutes=61))  # every warning and breach has passed
        # both run the check at the same moment, bypassing the lease: the unique key decides
        counts = await asyncio.gather(one.sla.check(), two.sla.check(), one.sla.check(), two.sla.check())
        assert sum(counts) == 30  # one breach notice each (the warning is superseded: never posted)
        assert await _count(one, ReminderSent, level="breach") == 30
        assert await _count(one, ReminderSent, level="warning") == 0  # so never recorded as sent
        assert await _count(one, OutboxRow, kind="notice") == 30
        # the scheduled job is lease-guarded: only one instance runs it at a time
        clock.advance(timedelta(hours=1))
        assert await one.sla.run() == 0
        async with two.store.transaction() as uow:
            assert not await uow.leases.take(
                "sla-check", two.sla.holder, clock.now(), clock.now() + timedelta(seconds=60)
            )
        clock.advance(timedelta(minutes=2))  # the lease of `one` expired (60 s)
        async with two.store.transaction() as uow:
            assert await uow.leases.take(
                "sla-check", two.sla.holder, clock.now(), clock.now() + timedelta(seconds=60)
            )
    finally:
        await one.stop()
        await two.stop()


async def test_two_instances_post_a_scheduled_digest_once(
    pg_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(pg_url)
    settings = sla_settings(pg_url, tmp_path / "out").settings()
    one = await started_app(settings, clock)
    two = await started_app(settings, clock)
    try:
        clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))  # Tuesday 09:00 in Amsterdam
        posted = await asyncio.gather(one.digests.send_due("daily"), two.digests.send_due("daily"))
        assert sorted(posted) == [False, True]
        assert one.local is not None and two.local is not None
        assert len(one.local.digests) + len(two.local.digests) == 1
    finally:
        await one.stop()
        await two.stop()


async def test_restart_on_postgres_keeps_reminders_single(
    pg_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(pg_url)
    settings = sla_settings(pg_url, tmp_path / "out").settings()
    first = await started_app(settings, clock)
    await first.ingestor.ingest(mail(when=clock.now()))
    clock.advance(timedelta(minutes=45))
    assert await first.sla.check() == 1
    await first.stop()
    second = await started_app(settings, clock)
    assert await second.sla.check() == 0
    clock.advance(timedelta(minutes=15))
    assert await second.sla.check() == 1
    assert await _count(second, OutboxRow, kind="notice") == 2
    await second.stop()
