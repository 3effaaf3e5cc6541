"""Benchmark SLA compliance at scale and what a digest does to the event loop.

Run: ``python bench/bench_compliance.py [--conversations 100000] [--breaches 10000] [--firing 9000]``.
Seeds 100,000 conversations over 14 days (half answered, a fifth closed) and 10,000 breach
and 10,000 warning reminders into SQLite (a temp file) and, when reachable, a fresh
PostgreSQL database (``THREADLINE_BENCH_POSTGRES``; dropped after), then measures:

- ``digest``: ``DigestService.build`` over the last 7 days (about 32,000 handled
  conversations), the median of ``--runs``; on PostgreSQL first straight after the bulk
  load (no ``ANALYZE`` yet), then after it;
- ``report 52w``: ``build_report`` over 52 weeks;
- while a digest is built: the event loop's lag (a 5 ms sleep's overshoot, every 5 ms) and
  the latency of webhook acknowledgements (``Journal.record``, every 10 ms), p50/p99/max;
- the same while an SLA check fires ``--firing`` breach notices.

The script only uses names that exist before and after issue 19, so the same file measures
an older checkout (``PYTHONPATH=<old tree> python bench/bench_compliance.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text, update

from bot.clock import ManualClock
from bot.config import Settings
from bot.digest import DigestService
from bot.ingest.journal import Journal
from bot.reports.report import build_report
from bot.sla.checker import SlaChecker
from storage import Store
from storage.migrate import upgrade
from storage.models import Agent, Contact, Conversation, OutboxRow, ReminderSent
from testkit.settings import SettingsBuilder

__all__ = ["main"]

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
SPREAD_MINUTES = 14 * 24 * 60


def _settings(db: str, out: str) -> Settings:
    """One email inbox with an SLA (1h first response, 2d resolution) and a weekly digest of it."""
    return (
        SettingsBuilder(db, log_level=None)
        .set("surfaces.local")
        .inbox("support", channel="email", address="support@example.com", chat_channel="support")
        .set("inboxes.support.sla", first_response="1h", resolution="2d", warn_before="15m")
        .email_to_files(out)
        .set("digests.weekly", chat_channel="digest", cron="0 12 * * 3", inboxes=["support"])
        .settings()
    )


def _conversations(n: int, contact_id: int, agents: list[int]) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        created = NOW - timedelta(minutes=i % SPREAD_MINUTES, seconds=i % 60)
        closed = i % 5 == 0
        rows.append(
            {
                "number": i + 1,
                "inbox": "support",
                "channel": "email" if i % 3 else "whatsapp",
                "contact_id": contact_id,
                "subject": f"Order {i}",
                "status": "closed" if closed else "open",
                "priority": "normal",
                "assignee_id": agents[i % len(agents)] if i % 3 else None,
                "created_at": created,
                "updated_at": created,
                "waiting_since": None if closed or i % 2 == 0 else created,
                "first_response_at": created + timedelta(minutes=20 + i % 90) if i % 2 == 0 else None,
                "closed_at": created + timedelta(hours=2) if closed else None,
                "sla_next_at": None,
                "sla_state": "breached" if i % 10 == 3 else "ok",
                "sla_clock": {"pauses": [], "points": []},
            }
        )
    return rows


def _reminders(n: int, breaches: int) -> list[dict[str, Any]]:
    rows = []
    step = max(1, n // breaches)
    for k in range(breaches):
        conversation = 1 + (k * step + 3) % n
        created = NOW - timedelta(minutes=(conversation - 1) % SPREAD_MINUTES)
        for level, after in (("warning", timedelta(minutes=45)), ("breach", timedelta(hours=1))):
            rows.append(
                {
                    "conversation_id": conversation,
                    "target": "first_response",
                    "level": level,
                    "due_at": created + after,
                    "sent_at": created + after,
                    "late": False,
                }
            )
    return rows


async def _bulk(store: Store, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        async with store.transaction() as uow:
            await uow.session.execute(insert(model), rows[start : start + 5000])


async def _seed(store: Store, n: int, breaches: int) -> None:
    async with store.transaction() as uow:
        contact = Contact(name="Bench", created_at=NOW)
        uow.session.add(contact)
        agents = [Agent(key=f"a{i}", name=f"Agent {i}", away=False, created_at=NOW) for i in range(8)]
        for agent in agents:
            uow.session.add(agent)
        await uow.session.flush()
        contact_id, agent_ids = contact.id, [a.id for a in agents]
    await _bulk(store, Conversation, _conversations(n, contact_id, agent_ids))
    await _bulk(store, ReminderSent, _reminders(n, breaches))


async def _make_due(store: Store, n: int, firing: int) -> None:
    """``firing`` open conversations whose first-response breach point has just passed."""
    due = NOW - timedelta(seconds=30)
    clock = {"pauses": [], "points": [["first_response", "first_response", "breach", due.isoformat()]]}
    async with store.transaction() as uow:
        ids = (
            await uow.session.execute(
                text("SELECT id FROM conversations WHERE status = 'open' ORDER BY id LIMIT :n"), {"n": firing}
            )
        ).scalars()
        for start_ids in _chunks(list(ids), 1000):
            await uow.session.execute(
                update(Conversation)
                .where(Conversation.id.in_(start_ids))
                .values(sla_next_at=due, sla_clock=clock, sla_state="ok")
            )


async def _never_posted(row: OutboxRow) -> bool:
    """The bench builds digests and never posts one."""
    raise AssertionError(f"the bench posted outbox row {row.id}")


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0


async def _under_load(store: Store, work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run ``work`` while one task measures loop lag and another acknowledges webhooks."""
    journal = Journal(store, ManualClock(NOW), "bench")
    lags: list[float] = []
    acks: list[float] = []
    done = asyncio.Event()

    async def lag_probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(max(0.0, (time.perf_counter() - started) * 1000 - 5.0))

    async def ack_probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await journal.record("whatsapp", b'{"bench": true}')
            acks.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)

    probes = [asyncio.create_task(lag_probe()), asyncio.create_task(ack_probe())]
    await asyncio.sleep(0.2)  # probes running before the work starts
    started = time.perf_counter()
    await work()
    elapsed = (time.perf_counter() - started) * 1000
    await asyncio.sleep(0.1)
    done.set()
    await asyncio.gather(*probes)
    return {
        "work_ms": elapsed,
        "lag_p99": _pct(lags, 99),
        "lag_max": max(lags, default=0.0),
        "ack_p50": _pct(acks, 50),
        "ack_p99": _pct(acks, 99),
        "ack_max": max(acks, default=0.0),
        "acks": float(len(acks)),
    }


async def _timed(work: Callable[[], Awaitable[Any]], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _measure(db: str, args: argparse.Namespace) -> dict[str, Any]:
    settings: Settings = _settings(db, tempfile.mkdtemp())
    await upgrade(db)
    store = Store(db)
    await _seed(store, args.conversations, args.breaches)
    clock = ManualClock(NOW)
    digests = DigestService(store, settings, clock, {"local"}, _never_posted)  # built, never posted
    start = NOW - timedelta(days=7)

    async def digest() -> None:
        view = await digests.build("weekly", NOW)
        assert view.sla_compliance is not None

    async def report() -> None:
        async with store.transaction() as uow:
            result = await build_report(uow, settings, NOW - timedelta(weeks=52), NOW)
        assert 0 < result.sla_breached <= args.breaches, result.sla_breached

    result: dict[str, Any] = {}
    async with store.transaction() as uow:
        handled, breached = await uow.stats.compliance(["support"], start, NOW)
    result["handled"], result["breached"] = handled, breached
    if store.dialect == "postgresql":
        result["digest_fresh_ms"] = await _timed(digest, 1)  # straight after the bulk load
        async with store.transaction() as uow:
            await uow.session.execute(text("ANALYZE"))
    await digest()  # warm: statements compiled, pages cached
    result["digest_ms"] = await _timed(digest, args.runs)
    result["report_ms"] = await _timed(report, 1)
    result["during_digest"] = await _under_load(store, digest)
    await _make_due(store, args.conversations, args.firing)
    checker = SlaChecker(store, settings, clock, lambda: None)
    fired: list[int] = []

    async def check() -> None:
        fired.append(await checker.check())

    result["during_sla"] = await _under_load(store, check)
    result["fired"] = fired[0]
    await store.close()
    return result


def _pg_url() -> str | None:
    admin = os.environ.get("THREADLINE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except Exception as exc:  # no server: report and go on with SQLite
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping it")
        return None
    name = f"threadline_bench_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load_line(label: str, figures: dict[str, float]) -> str:
    return (
        f"  {label}: {figures['work_ms']:.0f} ms · loop lag p99 {figures['lag_p99']:.1f} ms"
        f" max {figures['lag_max']:.1f} ms · ack p50 {figures['ack_p50']:.1f} p99 {figures['ack_p99']:.1f}"
        f" max {figures['ack_max']:.1f} ms ({figures['acks']:.0f} acks)"
    )


def main() -> None:
    """Seed, measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--breaches", type=int, default=10_000)
    parser.add_argument("--firing", type=int, default=9_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{platform.platform()} · Python {platform.python_version()} · {os.cpu_count()} CPUs")
    targets: dict[str, str] = {}
    if args.only != "postgresql":
        targets["sqlite"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    pg = _pg_url() if args.only != "sqlite" else None
    if pg:
        targets["postgresql"] = pg
    try:
        for name, url in targets.items():
            r = asyncio.run(_measure(url, args))
            fresh = (
                f" (straight after the load: {r['digest_fresh_ms']:.0f} ms)" if "digest_fresh_ms" in r else ""
            )
            print(
                f"{name}: {args.conversations} conversations, {args.breaches} breaches,"
                f" {r['handled']} handled in the digest's 7 days ({r['breached']} breached)\n"
                f"  digest {r['digest_ms']:.0f} ms{fresh} · report 52w {r['report_ms']:.0f} ms"
            )
            print(_load_line("while a digest is built", r["during_digest"]))
            print(_load_line(f"while an SLA check fires {r['fired']} notices", r["during_sla"]))
    finally:
        if pg:
            _drop(pg)


if __name__ == "__main__":
    main()
