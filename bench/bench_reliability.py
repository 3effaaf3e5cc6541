"""Reliability and scale benchmarks.

1. Outbox drain rate with 1, 2 and 4 ``threadline run`` processes on one PostgreSQL: a backlog of
   thread posts (one new conversation each) is delivered by N real processes sharing the outbox
   (``FOR UPDATE SKIP LOCKED``). The local surface makes a delivery cost only its database work, so
   this measures the coordination overhead, not a platform's speed.
2. Card edits saved: a realistic conversation flow (email in, claim, reply, customer answers, label,
   close) in one process; how many card-edit rows reach the surface with and without skipping edits
   that change nothing.

Run: /tmp/venv/bin/python bench/bench_reliability.py [--rows 2000] [--postgres URL]
Prints a table; docs/bench-reliability.md keeps the results with the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # testkit, when run as bench/<script>.py

import psycopg
from sqlalchemy import create_engine, text

from adapters.local import LocalSurface
from bot.clock import ManualClock, SystemClock
from bot.ports import ThreadRef
from bot.ports.inbound import InboundMessage
from bot.views import CardView
from storage.db import sync_url
from storage.migrate import upgrade
from testkit.settings import SettingsBuilder
from threadline.app import Threadline

ROOT = Path(__file__).resolve().parents[1]


def bench_settings(db: str, name: str, out: Path) -> SettingsBuilder:
    """Instance ``name``: one email inbox on the local surface, an outbox polling every 50 ms in
    batches of 50, replies written to ``out``."""
    return (
        SettingsBuilder(db)
        .set("outbox", poll_interval_seconds=0.05, batch_size=50)
        .set("ops", instance_name=name)
        .set("surfaces.local")
        .inbox("support", channel="email", address="support@example.com", chat_channel="support")
        .email_to_files(out)
    )


def _message(n: int, tag: str, when: datetime, sender: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel="email",
        inbox="support",
        external_id=f"<{tag}-{n}@bench>",
        sender_address=sender or f"c{n}@bench.example",
        sender_name=f"Customer {n}",
        received_at=when,
        text=f"Message {n}",
        subject=f"Question {n}",
    )


def _pending(url: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            return int(db.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one())
    finally:
        engine.dispose()


async def _backlog(url: str, rows: int, out: Path) -> None:
    settings = bench_settings(url, "filler", out).settings()
    app = Threadline(settings, clock=SystemClock())
    await app.prepare_database()
    tag = uuid.uuid4().hex[:6]
    await asyncio.gather(*(app.ingestor.ingest(_message(n, tag, app.clock.now())) for n in range(rows)))
    await app.store.close()


def drain_with_instances(admin_url: str, instances: int, rows: int) -> float:
    """Rows per second delivered by ``instances`` processes draining a backlog of ``rows``."""
    name = f"tl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    work = Path(tempfile.mkdtemp(prefix="tl-bench-rel-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(upgrade(url))
        asyncio.run(_backlog(url, rows, work / "out"))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for i in range(instances):
            config = work / f"i{i}.toml"
            config.write_text(bench_settings(url, f"bench-{i}", work / "out").toml())
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "threadline.cli", "--config", str(config), "run"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        start_pending, started = rows, 0.0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            pending = _pending(url)
            if not started and pending < rows:
                started, start_pending = time.monotonic(), pending
            if started and pending == 0:
                return (start_pending / (time.monotonic() - started)) if start_pending else float("nan")
            time.sleep(0.05)
        raise RuntimeError("backlog not drained in 600 s")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class CountingSurface(LocalSurface):
    """Counts card-edit requests that reach the surface."""

    def __init__(self) -> None:
        super().__init__()
        self.edits = 0

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        self.edits += 1
        await super().update_card(ref, card)


async def card_edits(conversations: int, skip: bool) -> tuple[int, int, int]:
    """(card rows, edit requests sent, posts sent) for a realistic flow over ``conversations``."""
    work = Path(tempfile.mkdtemp(prefix="tl-bench-cards-"))
    clock = ManualClock()
    builder = bench_settings(f"sqlite:///{work}/t.db", "cards", work / "out")
    settings = builder.agent("alice", "Alice", local="alice").settings()
    app = Threadline(settings, clock=clock)
    await app.prepare_database()
    await app.sync_agents()
    surface = CountingSurface()
    surface.commands = app.commands  # built before the app it types into
    app.surfaces["local"] = surface
    if not skip:
        import bot.outbox.service as outbox_module

        outbox_module.card_fingerprint = lambda card: uuid.uuid4().hex
    for n in range(conversations):
        number = (await app.ingestor.ingest(_message(n, "flow", clock.now()))).conversation_number
        await app.dispatcher.drain()
        for line in ("!claim", "!reply We are on it.", None, "!label +refund", "!close"):
            if line is None:  # the customer answers in the same email thread
                answer = replace(
                    _message(n + 10**6, "flow", clock.now(), sender=f"c{n}@bench.example"),
                    thread_refs=(f"<flow-{n}@bench>",),
                )
                await app.ingestor.ingest(answer)
            else:
                await surface.type_line(f"#{number} {line}", "alice")
            await app.dispatcher.drain()
            clock.advance(timedelta(minutes=1))
    engine = create_engine(f"sqlite:///{work}/t.db")
    with engine.connect() as db:
        cards = int(db.execute(text("SELECT count(*) FROM outbox WHERE kind = 'card'")).scalar_one())
        query = text("SELECT count(*) FROM outbox WHERE kind IN ('post', 'notice')")
        posts = int(db.execute(query).scalar_one())
    engine.dispose()
    await app.store.close()
    return cards, surface.edits, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4], help="processes to drain with")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("THREADLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    print(
        f"# {platform.platform()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print("\n| instances | outbox rows | drain rate (rows/s) |\n|---|---|---|")
    for instances in args.instances:
        rate = drain_with_instances(args.postgres, instances, args.rows)
        print(f"| {instances} | {args.rows} | {rate:,.0f} |", flush=True)
    with_skip = asyncio.run(card_edits(args.conversations, skip=True))
    without = asyncio.run(card_edits(args.conversations, skip=False))
    print("\n| card edits | card rows | edit requests sent | thread posts |\n|---|---|---|---|")
    print(f"| sent always (before) | {without[0]} | {without[1]} | {without[2]} |")
    print(f"| unchanged skipped (now) | {with_skip[0]} | {with_skip[1]} | {with_skip[2]} |")


if __name__ == "__main__":
    main()
