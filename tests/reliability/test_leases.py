"""Instance leases on the real PostgreSQL: one holder at a time, takeover after a holder dies,
scheduled jobs guarded, a clean stop hands every lease over at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import SystemClock
from bot.runtime.leases import LeasedWorker, Leases
from storage import Store
from storage.migrate import upgrade
from storage.models import Lease
from testkit.servers import reset_postgres
from testkit.settings import make_settings
from testkit.waiting import until
from threadline.app import Threadline


class Worker:
    """A stand-in mailbox reader: records when it runs (in a shared log) until stopped."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.running = False
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self._stop.clear()
        self.running = True
        self.log.append(f"{self.name} start")
        try:
            await self._stop.wait()
        finally:
            self.running = False
            self.log.append(f"{self.name} stop")

    async def stop(self) -> None:
        self._stop.set()


@pytest.fixture
async def store(pg_server: str) -> AsyncIterator[Store]:
    reset_postgres(pg_server)
    await upgrade(pg_server)
    db = Store(pg_server)
    yield db
    await db.close()


async def test_one_holder_at_a_time_and_takeover_when_it_dies(store: Store) -> None:
    clock, log = SystemClock(), list[str]()
    a = LeasedWorker(Leases(store, clock, "instance-a", 1.5), "mailbox:support", Worker("a", log))
    b = LeasedWorker(Leases(store, clock, "instance-b", 1.5), "mailbox:support", Worker("b", log))
    task_a = asyncio.create_task(a.run())
    await until("a to hold the lease", lambda: a.holding)
    task_b = asyncio.create_task(b.run())
    await asyncio.sleep(2.0)  # several renewal rounds of both
    assert a.holding and not b.holding and log == ["a start"]
    task_a.cancel()  # instance A dies: no release, no more renewals
    await asyncio.gather(task_a, return_exceptions=True)
    await until("b to take over", lambda: b.holding)
    assert log[-1] == "b start"
    assert b.state().ok and "active" in b.state().detail
    await b.stop()
    await task_b
    assert log[-1] == "b stop"


async def test_a_clean_stop_releases_the_lease_at_once(store: Store) -> None:
    clock, log = SystemClock(), list[str]()
    a = LeasedWorker(Leases(store, clock, "instance-a", lease_seconds=60), "mailbox:sales", Worker("a", log))
    task = asyncio.create_task(a.run())
    await until("a to hold the lease", lambda: a.holding)
    await a.stop()
    await task
    assert await Leases(store, clock, "instance-b", lease_seconds=60).take("mailbox:sales")


async def test_a_guarded_job_runs_in_one_instance(store: Store) -> None:
    clock, runs = SystemClock(), []

    async def job(name: str) -> int:
        runs.append(name)
        return 1

    a = Leases(store, clock, "instance-a", lease_seconds=30)
    b = Leases(store, clock, "instance-b", lease_seconds=30)
    guarded_a = a.guarded("snooze-wake", lambda: job("a"))
    guarded_b = b.guarded("snooze-wake", lambda: job("b"))
    for _ in range(3):
        await asyncio.gather(guarded_a(), guarded_b())
    assert runs == ["a", "a", "a"] or runs == ["b", "b", "b"]


async def test_a_clean_stop_releases_every_lease_and_jobs_follow_ops(pg_server: str, tmp_path: Path) -> None:
    reset_postgres(pg_server)
    await upgrade(pg_server)
    ops = '\n[ops]\ninstance_name = "tl-a"\nlease_seconds = 3\n'
    app = Threadline(make_settings(pg_server, tmp_path / "out", ops), clock=SystemClock())
    await app.start()
    try:
        assert app.sla.lease == timedelta(seconds=3)
        job = app._scheduler.get_job("sla-check")
        assert job is not None and job.trigger.interval == timedelta(seconds=1)  # a third of the lease
        async with app.store.transaction() as uow:
            held = (await uow.session.execute(select(Lease.name).where(Lease.holder == "tl-a"))).scalars()
            assert "sla-check" in set(held)
    finally:
        await app.stop()
    check = Store(pg_server)
    try:
        async with check.transaction() as uow:
            left = (await uow.session.execute(select(Lease.name, Lease.holder))).all()
        assert left == []  # a restart under another name takes over at once
    finally:
        await check.close()
