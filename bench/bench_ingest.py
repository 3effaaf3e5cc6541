"""Ingest throughput and latency through the core (parse excluded), on SQLite and PostgreSQL,
and the memory of a running instance holding 100,000 conversations.

Run: .venv/bin/python bench/bench_ingest.py [--messages 10000] [--conversations 100000] [--postgres URL]
Prints tables; copy them into docs/benchmarks.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # testkit, when run as bench/<script>.py

from bot.clock import SystemClock
from bot.ports.inbound import InboundMessage
from bot.runtime import heap
from storage.migrate import upgrade
from testkit.settings import SettingsBuilder
from threadline.app import Threadline
from threadline.config import AppSettings


def bench_settings(db_url: str, tmp: str) -> AppSettings:
    """One email inbox on the local surface, logging errors only, replies written to ``tmp``/out."""
    return (
        SettingsBuilder(db_url, log_level="error")
        .set("surfaces.local")
        .inbox("support", channel="email", address="support@example.com", chat_channel="support")
        .email_to_files(f"{tmp}/out")
        .settings()
    )


def inbound_message(i: int, customers: int) -> InboundMessage:
    """The ``i``-th synthetic email of a benchmark, from one of ``customers`` customers."""
    customer = i % customers
    return InboundMessage(
        channel="email",
        inbox="support",
        external_id=f"<bench-{i}-{uuid.uuid4().hex[:8]}@example.org>",
        sender_address=f"customer{customer}@example.org",
        sender_name=f"Customer {customer}",
        received_at=datetime.now(UTC),
        subject=f"Question {i}",
        text="Hello, I have a question about my order. " * 8,
        # every third message answers the customer's previous one (threading path)
        thread_refs=(f"<prev-{i - 1}@example.org>",) if i % 3 else (),
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _ingest(db_url: str, n: int, concurrency: int) -> dict[str, float]:
    tmp = tempfile.mkdtemp()
    await upgrade(db_url)
    app = Threadline(bench_settings(db_url, tmp), clock=SystemClock())
    await app.prepare_database()
    heap.settle()  # as `threadline run` does once started
    messages = [inbound_message(i, customers=max(1, n // 4)) for i in range(n)]
    latencies: list[float] = []
    queue: asyncio.Queue[InboundMessage] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)

    async def worker() -> None:
        while not queue.empty():
            message = queue.get_nowait()
            start = time.perf_counter()
            await app.ingestor.ingest(message)
            latencies.append((time.perf_counter() - start) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    await app.stop()
    return {
        "msgs": n,
        "rate": n / elapsed,
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies),
    }


def _bulk_fill(db_file: str, conversations: int) -> None:
    """Write ``conversations`` conversations (contact, identity, two messages each) straight into SQLite."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    conn = sqlite3.connect(db_file)
    body = "Hello, I have a question about my order. " * 8
    with conn:
        conn.executemany(
            "INSERT INTO contacts (id, uid, name, created_at) VALUES (?, ?, ?, ?)",
            ((i, uuid.uuid4().hex, f"Customer {i}", now) for i in range(1, conversations + 1)),
        )
        conn.executemany(
            "INSERT INTO contact_identities (contact_id, uid, kind, value) VALUES (?, ?, 'email', ?)",
            ((i, uuid.uuid4().hex, f"customer{i}@example.org") for i in range(1, conversations + 1)),
        )
        conn.executemany(
            "INSERT INTO conversations (id, number, inbox, channel, contact_id, subject, status, priority,"
            " created_at, updated_at) VALUES (?, ?, 'support', 'email', ?, ?, ?, 'normal', ?, ?)",
            (
                (i, i, i, f"Question {i}", "closed" if i % 3 else "open", now, now)
                for i in range(1, conversations + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO messages (uid, conversation_id, kind, channel, external_id, text, created_at)"
            " VALUES (?, ?, ?, 'email', ?, ?, ?)",
            (
                (
                    uuid.uuid4().hex,
                    i // 2 + 1,
                    "inbound" if i % 2 == 0 else "outbound",
                    f"<fill-{i}@x>",
                    body,
                    now,
                )
                for i in range(conversations * 2)
            ),
        )
        conn.execute("UPDATE counters SET value = ? WHERE name = 'conversation'", (conversations,))
    conn.close()


async def _serve_over(db: str, tmp: str) -> dict[str, float]:
    """Start an instance over an existing database, work it a little, report its resident memory."""
    app = Threadline(bench_settings(db, tmp), clock=SystemClock())
    await app.start()
    for i in range(200):
        await app.ingestor.ingest(inbound_message(10_000_000 + i, 50))
    await app.dispatcher.drain()
    assert app.local is not None
    await app.local.type_line("!list open", "bench")
    async with app.store.transaction() as uow:
        count = await uow.conversations.count_conversations()
    await app.stop()
    return {"conversations": count, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _memory(conversations: int) -> dict[str, float]:
    tmp = tempfile.mkdtemp()
    db = f"sqlite:///{tmp}/mem.db"
    asyncio.run(upgrade(db))
    began = time.perf_counter()
    _bulk_fill(f"{tmp}/mem.db", conversations)
    fill = time.perf_counter() - began
    # a fresh process, as after a restart: its peak RSS is what the instance needs
    out = subprocess.run(
        [sys.executable, __file__, "--serve-over", db, "--tmp", tmp],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result.update(fill_s=fill, db_mb=Path(f"{tmp}/mem.db").stat().st_size / 1e6)
    return result


def main() -> None:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--serve-over", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_over:
        print(json.dumps(asyncio.run(_serve_over(args.serve_over, args.tmp))))
        return
    print(f"machine: {platform.node()} · {platform.machine()} · Python {platform.python_version()}")
    print("\n| database | concurrency | messages | msgs/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    pg_db = None
    try:
        import psycopg

        pg_db = f"threadline_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{pg_db}"')
        targets.append(("postgresql", args.postgres.rsplit("/", 1)[0] + "/" + pg_db))
    except Exception as exc:
        print(f"(PostgreSQL skipped: {exc})")
        pg_db = None
    for name, base in targets:
        for concurrency in (1, 8, 16, 32):  # producers submitting at once (a burst shares transactions)
            url = base.replace("bench.db", f"bench{concurrency}.db")  # a fresh database for each run
            r = asyncio.run(_ingest(url, args.messages, concurrency))
            print(
                f"| {name} | {concurrency} | {r['msgs']:.0f} | {r['rate']:.0f} | {r['p50']:.2f} "
                f"| {r['p99']:.2f} | {r['max']:.1f} |"
            )
            if name == "postgresql":
                import psycopg

                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    if pg_db:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    if not args.skip_memory:
        m = _memory(args.conversations)
        print("\n| stored conversations | peak RSS of the running instance MB | SQLite file MB |")
        print("|---|---|---|")
        print(f"| {m['conversations']:.0f} | {m['rss_mb']:.0f} | {m['db_mb']:.0f} |")


if __name__ == "__main__":
    main()
