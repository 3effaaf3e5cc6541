"""Time from the database: ``DatabaseClock`` follows the server's clock whatever this host's says,
the test skew hook, and the digest cron job that fires early by a host clock running ahead."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import DatabaseClock, ManualClock, SystemClock
from storage import Store
from storage.db_time import database_now
from storage.migrate import upgrade
from testkit.app import started_app
from testkit.servers import reset_postgres
from testkit.settings import make_settings
from testkit.sla import ams, sla_settings
from threadline.app import TEST_CLOCK_OFFSET, Threadline, clock_skew_for_tests


def _near(a: datetime, b: datetime, seconds: float = 2.0) -> bool:
    return abs((a - b).total_seconds()) < seconds


async def test_the_database_clock_ignores_a_skewed_host_clock(caplog: pytest.LogCaptureFixture) -> None:
    server = SystemClock()  # stands in for the database server's clock
    host = SystemClock(timedelta(seconds=30))
    clock = DatabaseClock(lambda: asyncio.sleep(0, server.now()), host)
    assert _near(clock.now(), host.now())  # before the first reading: the host's own clock
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        ahead = await clock.sync()
        await clock.sync()
    assert abs(ahead.total_seconds() + 30) < 1.0
    assert _near(clock.now(), datetime.now(UTC))
    told = [r for r in caplog.records if "differs from the database" in r.getMessage()]
    assert len(told) == 1  # once, not every reading


async def test_a_failed_reading_keeps_counting_from_the_last_one() -> None:
    readings = [datetime(2026, 1, 5, 9, 0, tzinfo=UTC)]

    async def read() -> datetime:
        if not readings:
            raise ConnectionError("database away")
        return readings.pop()

    clock = DatabaseClock(read, SystemClock(), every=0.05)
    await clock.sync()
    runner = asyncio.create_task(clock.run())
    await asyncio.sleep(0.2)  # several failed readings
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    assert datetime(2026, 1, 5, 9, 0, tzinfo=UTC) < clock.now() < datetime(2026, 1, 5, 9, 1, tzinfo=UTC)


async def test_database_now_reads_the_server(db_url: str) -> None:
    await upgrade(db_url)
    store = Store(db_url)
    try:
        moment = await database_now(store)
    finally:
        await store.close()
    assert moment.tzinfo is not None and _near(moment, datetime.now(UTC), 5.0)


def test_the_skew_hook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(TEST_CLOCK_OFFSET, raising=False)
    assert clock_skew_for_tests() == timedelta(0)
    monkeypatch.setenv(TEST_CLOCK_OFFSET, "-30")
    assert clock_skew_for_tests() == timedelta(seconds=-30)
    app = Threadline(make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path))
    assert isinstance(app.clock, SystemClock) and app.clock.offset == timedelta(seconds=-30)  # SQLite
    monkeypatch.setenv(TEST_CLOCK_OFFSET, "half a minute")
    with pytest.raises(ValueError, match=f"{TEST_CLOCK_OFFSET}='half a minute' is not a number of seconds"):
        clock_skew_for_tests()


def test_postgresql_instances_tell_the_database_time(pg_server: str, tmp_path: Path) -> None:
    reset_postgres(pg_server)
    app = Threadline(make_settings(pg_server, tmp_path))
    assert isinstance(app.clock, DatabaseClock)
    assert app.digests.clock is app.clock and app.sla.clock is app.clock and app.ops.leases.clock is app.clock


async def test_a_cron_job_fired_early_waits_for_its_fire_time(tmp_path: Path) -> None:
    clock = ManualClock(ams(2026, 1, 6, 8, 59, 59))  # the host fired 09:00 while the database says 08:59:59
    app = await started_app(sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings(), clock)
    waited = asyncio.get_running_loop().time()
    assert await app.digests.send_due("daily") is True
    waited = asyncio.get_running_loop().time() - waited
    assert app.local is not None
    _, view = app.local.digests[0]
    await app.stop()
    assert view.period_end == ams(2026, 1, 6, 9, 0)  # this morning's run, not yesterday's again
    assert waited >= 0.9
