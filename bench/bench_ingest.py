"""Ingest throughput and latency through the core (parse excluded), on SQLite and PostgreSQL,
and the memory of a running instance holding 100,000 conversations.

Run: .venv/bin/python bench/bench_ingest.py [--messages 10000] [--conversations 100000] [--postgres URL]
Prints tables; copy them into docs/benchmarks.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Threadline
from bot.clock import SystemClock
from bot.config import parse_config
from bot.inbound import InboundMessage
from storage.migrate import upgrade

CONFIG = """
[threadline]
database_url = "{db}"
log_level = "error"
[surfaces.local]
[inboxes.support]
channel = "email"
address = "support@example.com"
chat_channel = "support"
[channels.email]
outgoing_dir = "{tmp}/out"
"""


def _message(i: int, customers: int) -> InboundMessage:
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
    app = Threadline(parse_config(CONFIG.format(db=db_url, tmp=tmp), env={}), clock=SystemClock())
    await app.prepare_database()
    messages = [_message(i, customers=max(1, n // 4)) for i in range(n)]
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


async def _memory(conversations: int) -> dict[str, float]:
    tmp = tempfile.mkdtemp()
    db = f"sqlite:///{tmp}/mem.db"
    await upgrade(db)
    app = Threadline(parse_config(CONFIG.format(db=db, tmp=tmp), env={}), clock=SystemClock())
    await app.prepare_database()
    began = time.perf_counter()
    for start in range(0, conversations, 1000):
        await asyncio.gather(*(app.ingestor.ingest(_message(i, conversations)) for i in range(start, start + 1000)))
    fill = time.perf_counter() - began
    await app.dispatcher.drain()  # the local surface keeps threads in memory: a worst case
    await app.stop()
    # a fresh instance over the full database, as after a restart
    app = Threadline(parse_config(CONFIG.format(db=db, tmp=tmp), env={}), clock=SystemClock())
    await app.start()
    await app.ingestor.ingest(_message(conversations + 1, conversations))
    async with app.store.transaction() as repo:
        count = await repo.count_conversations()
    await app.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = Path(f"{tmp}/mem.db").stat().st_size / 1e6
    return {"conversations": count, "fill_s": fill, "peak_rss_mb": rss_mb, "db_mb": size_mb}


def main() -> None:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
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
    except Exception as exc:  # noqa: BLE001
        print(f"(PostgreSQL skipped: {exc})")
        pg_db = None
    for name, url in targets:
        for concurrency in (1, 32):
            if concurrency > 1:
                url = url.replace("bench.db", f"bench{concurrency}.db")
            r = asyncio.run(_ingest(url, args.messages, concurrency))
            print(f"| {name} | {concurrency} | {r['msgs']:.0f} | {r['rate']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} "
                  f"| {r['max']:.1f} |")
            if name == "postgresql":
                import psycopg

                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    if pg_db:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    if not args.skip_memory:
        m = asyncio.run(_memory(args.conversations))
        print("\n| stored conversations | fill time s | peak RSS MB | SQLite file MB |")
        print("|---|---|---|---|")
        print(f"| {m['conversations']:.0f} | {m['fill_s']:.0f} | {m['peak_rss_mb']:.0f} | {m['db_mb']:.0f} |")


if __name__ == "__main__":
    main()
