"""Benchmark the scheduler: one SLA check and one digest over 100,000 open conversations.

Run: ``/tmp/venv/bin/python bench/bench_sla.py [--conversations 100000] [--due 100] [--runs 5]``.
Seeds SQLite (a temp file) and, when reachable, a fresh PostgreSQL database
(``THREADLINE_BENCH_POSTGRES``, default postgresql://postgres@127.0.0.1:5432/postgres; dropped after).
Targets: an SLA check < 100 ms (indexed ``sla_next_at`` range), a digest < 1 s.
Reported: the idle check (nothing due: the query alone), a check where ``--due``
conversations fire a reminder each, and the digest, each the median of ``--runs``.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.digest.compute import build_digest  # noqa: E402
from bot.sla.checker import SlaChecker  # noqa: E402
from storage import Store  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Agent, Contact, Conversation, ConversationLabel, Label  # noqa: E402
from testkit.settings import SettingsBuilder  # noqa: E402

__all__ = ["main"]

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


def _settings(db: str, out: str) -> Settings:
    """One email inbox with an SLA (1h first response, 2d resolution) and a daily digest of it."""
    return (
        SettingsBuilder(db, log_level=None)
        .set("surfaces.local")
        .inbox(
            "support",
            channel="email",
            address="support@example.com",
            chat_channel="support",
            timezone="Europe/Amsterdam",
        )
        .set("inboxes.support.sla", first_response="1h", resolution="2d", warn_before="15m")
        .set("inboxes.support.business_hours")
        .email_to_files(out)
        .set("digests.daily", chat_channel="digest", inboxes=["support"])
        .settings()
    )


def _rows(n: int, due: int, contact_id: int, agents: list[int]) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        created = NOW - timedelta(minutes=(i % 2880))
        firing = i < due
        next_at = NOW - timedelta(minutes=1) if firing else NOW + timedelta(minutes=5 + i % 5000)
        points = [["first_response", "first_response", "breach", next_at.isoformat()]]
        rows.append(
            {
                "number": i + 1,
                "inbox": "support",
                "channel": "email",
                "contact_id": contact_id,
                "subject": f"Order {i}",
                "status": "open" if i % 10 else "snoozed",
                "priority": "normal",
                "assignee_id": agents[i % len(agents)] if i % 3 else None,
                "created_at": created,
                "updated_at": created,
                "waiting_since": created,
                "first_response_at": created + timedelta(minutes=20) if i % 4 == 0 else None,
                "first_response_due": next_at,
                "sla_next_at": next_at if i % 10 else None,
                "sla_state": "breached" if i % 17 == 0 else "ok",
                "sla_clock": {"pauses": [], "points": points},
            }
        )
    return rows


async def _seed(store: Store, n: int, due: int) -> None:
    async with store.transaction() as uow:
        session = uow.session
        contact = Contact(name="Bench", created_at=NOW)
        session.add(contact)
        agents = [Agent(key=f"a{i}", name=f"Agent {i}", away=False, created_at=NOW) for i in range(8)]
        labels = [Label(key=f"l{i}", name=f"label{i}") for i in range(5)]
        for obj in [*agents, *labels]:
            session.add(obj)
        await session.flush()
        rows = _rows(n, due, contact.id, [a.id for a in agents])
        for start in range(0, n, 5000):
            await session.execute(insert(Conversation), rows[start : start + 5000])
        await session.flush()
        links = [{"conversation_id": i + 1, "label_id": labels[i % 5].id} for i in range(0, n, 2)]
        for start in range(0, len(links), 5000):
            await session.execute(insert(ConversationLabel), links[start : start + 5000])
    if store.dialect == "postgresql":  # as autovacuum would after a bulk load
        async with store.transaction() as uow:
            await uow.session.execute(text("ANALYZE"))


async def _measure(db: str, n: int, due: int, runs: int) -> dict[str, float]:
    out = tempfile.mkdtemp()
    settings = _settings(db, out)
    await upgrade(db)
    store = Store(db)
    await _seed(store, n, due)
    clock = ManualClock(NOW)
    checker = SlaChecker(store, settings, clock, lambda: None)
    firing = time.perf_counter()
    written = await checker.check()
    fire_ms = (time.perf_counter() - firing) * 1000
    assert written == min(due, sum(1 for i in range(due) if i % 10)), written
    idle = []
    for _ in range(runs):
        started = time.perf_counter()
        assert await checker.check() == 0
        idle.append((time.perf_counter() - started) * 1000)
    digests = []
    for _ in range(runs):
        started = time.perf_counter()
        async with store.transaction() as uow:
            view = await build_digest(
                uow, settings, "daily", settings.digests["daily"], NOW - timedelta(days=2), NOW
            )
        digests.append((time.perf_counter() - started) * 1000)
    assert view.open + view.snoozed == n
    await store.close()
    return {
        "check_firing_ms": fire_ms,
        "check_idle_ms": statistics.median(idle),
        "digest_ms": statistics.median(digests),
        "reminders": written,
    }


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


def main() -> None:
    """Seed, measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.platform()} · Python {platform.python_version()} · {os.cpu_count()} CPUs")
    targets = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/bench.db"}
    pg = _pg_url()
    if pg:
        targets["postgresql"] = pg
    try:
        for name, url in targets.items():
            result = asyncio.run(_measure(url, args.conversations, args.due, args.runs))
            print(
                f"{name:<11} {args.conversations} conversations:"
                f" SLA check idle {result['check_idle_ms']:.1f} ms"
                f" · check firing {result['reminders']:.0f} reminders {result['check_firing_ms']:.1f} ms"
                f" · digest {result['digest_ms']:.1f} ms"
            )
    finally:
        if pg:
            _drop(pg)


if __name__ == "__main__":
    main()
