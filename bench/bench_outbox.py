"""Outbox delivery rate of one instance, in process, on SQLite and PostgreSQL.

A backlog of thread posts (each a new conversation: the card is created, then the first post goes
into its thread) is delivered by one ``Dispatcher`` to the local surface, which costs nothing and is
unpaced, so the figure is the database work per delivery. Also counts the SQL statements and
transactions (``BEGIN``) per delivery. Several instances (separate processes) are measured by
``bench/bench_reliability.py``.

Run: .venv/bin/python bench/bench_outbox.py [--rows 2000] [--postgres URL]
Prints a table; docs/benchmarks.md keeps the results with the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from bot.clock import SystemClock
from bot.ports.inbound import InboundMessage
from bot.runtime import heap
from storage.migrate import upgrade
from threadline.app import Threadline
from threadline.config import parse_config

CONFIG = """
[threadline]
database_url = "{db}"
log_level = "warning"
[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)
batch_size = 50
[surfaces.local]
[inboxes.support]
channel = "email"
address = "support@example.com"
chat_channel = "support"
[channels.email]
outgoing_dir = "{out}"
"""


def _message(n: int, tag: str) -> InboundMessage:
    return InboundMessage(
        channel="email",
        inbox="support",
        external_id=f"<{tag}-{n}@bench>",
        sender_address=f"c{n}@bench.example",
        sender_name=f"Customer {n}",
        received_at=datetime.now(UTC),
        text=f"Message {n}",
        subject=f"Question {n}",
    )


class _Counter:
    """Counts statements and transactions sent to the database."""

    def __init__(self) -> None:
        self.statements = 0
        self.begins = 0

    def statement(self, *_: Any) -> None:
        self.statements += 1

    def begin(self, *_: Any) -> None:
        self.begins += 1


async def drain_rate(url: str, rows: int) -> tuple[float, float, float]:
    """(deliveries per second, statements per delivery, transactions per delivery) draining ``rows``."""
    work = Path(tempfile.mkdtemp(prefix="tl-bench-outbox-"))
    settings = parse_config(CONFIG.format(db=url, out=work / "out"), env={})
    app = Threadline(settings, clock=SystemClock())
    await app.prepare_database()
    heap.settle()  # as `threadline run` does once started
    tag = uuid.uuid4().hex[:6]
    for start in range(0, rows, 100):
        await asyncio.gather(*(app.ingestor.ingest(_message(n, tag)) for n in range(start, start + 100)))
    store: Any = app.store
    engine = store._sync_engine if store.is_sqlite else store._async_engine.sync_engine
    counter = _Counter()
    event.listen(engine, "before_cursor_execute", counter.statement)
    event.listen(engine, "begin", counter.begin)
    started = time.perf_counter()
    await app.dispatcher.drain(max_rounds=10 * rows)
    elapsed = time.perf_counter() - started
    async with app.store.transaction() as uow:
        pending, _ = await uow.outbox.outbox_stats(app.clock.now())
    await app.store.close()
    if pending:
        raise RuntimeError(f"{pending} rows left pending")
    return rows / elapsed, counter.statements / rows, counter.begins / rows


def _postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"tl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"{admin_url.rsplit('/', 1)[0]}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("THREADLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    print(
        f"# {platform.platform()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load {os.getloadavg()[0]:.2f}"
    )
    print("\n| database | rows | deliveries/s | statements/delivery | transactions/delivery |")
    print("|---|---|---|---|---|")
    work = Path(tempfile.mkdtemp(prefix="tl-bench-outbox-db-"))
    rate, statements, begins = asyncio.run(drain_rate(f"sqlite:///{work}/t.db", args.rows))
    print(f"| SQLite | {args.rows} | {rate:,.0f} | {statements:.1f} | {begins:.2f} |", flush=True)
    name, url = _postgres_database(args.postgres)
    try:
        asyncio.run(upgrade(url))
        rate, statements, begins = asyncio.run(drain_rate(url, args.rows))
        print(f"| PostgreSQL | {args.rows} | {rate:,.0f} | {statements:.1f} | {begins:.2f} |", flush=True)
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
