"""Sustained load on two instances behind HAProxy on one PostgreSQL (issue 19, item 7).

Seeds ``--conversations`` stored conversations over 10 WhatsApp inboxes (one business number
each), starts two ``threadline run`` processes (Slack HTTP mode against the fake Slack in this
process, an SLA on every inbox, a digest every minute) behind a real HAProxy, then for
``--duration`` seconds posts customer webhooks at ``--rate`` per second and has ``--agents``
simulated agents type slash commands (``/inbox claim #N``, one every ``--think`` seconds each).
Every ``--sample`` seconds it records the backlog (journal entries not done + outbox rows
pending), each instance's RSS and CPU time. Prints the command acknowledgement latency
(p50/p99/max, measured at the agent: the HTTP answer through HAProxy), the backlog at the start,
middle and end, RSS min/max and CPU per instance, and ``uptime``'s load average.

Run: .venv/bin/python bench/bench_load.py [--conversations 100000] [--rate 20] [--duration 600]
Needs PostgreSQL (THREADLINE_BENCH_POSTGRES, default the machine's on 127.0.0.1:5432) and
/usr/sbin/haproxy. docs/benchmarks.md keeps the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_traffic import APP_SECRET, INBOXES, Load, phone  # noqa: E402
from storage import Store  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Contact, Conversation  # noqa: E402
from testkit.processes.haproxy import Balancer  # noqa: E402
from testkit.processes.procs import Instance  # noqa: E402
from testkit.settings import SettingsBuilder  # noqa: E402
from testkit.slack.fake import FakeSlack  # noqa: E402
from testkit.slack.rig import slack_surface  # noqa: E402
from testkit.workers import free_port  # noqa: E402


def _config(db: str, instance: str, port: int, api: str) -> str:
    builder = (
        SettingsBuilder(db)
        .set("threadline", log_format="json")
        .set("ops", instance_name=instance)
        .set("web", host="127.0.0.1", port=port)
        .set("surfaces.slack", **slack_surface(api))
        .set(
            "channels.whatsapp",
            inbox="wa0",
            phone_number_id=phone(0),
            access_token="bench-token",
            app_secret=APP_SECRET,
            verify_token="bench-verify",
            graph_base_url="http://127.0.0.1:9",
            numbers={phone(i): f"wa{i}" for i in range(1, INBOXES)},
        )
        .set("digests.minutely", surface="slack", chat_channel="C_DIGEST", cron="* * * * *", timezone="UTC")
    )
    for i in range(INBOXES):
        builder.inbox(
            f"wa{i}",
            name=f"WhatsApp {i}",
            channel="whatsapp",
            address=f"+3120555{i:04d}",
            surface="slack",
            chat_channel=f"C_WA{i}",
        ).set(f"inboxes.wa{i}.sla", first_response="1h", warn_before="15m")
    return builder.toml()


async def _seed(db: str, n: int) -> None:
    """``n`` open conversations spread over the inboxes, the oldest two days old."""
    now = datetime.now(UTC)
    store = Store(db)
    async with store.transaction() as uow:
        contact = Contact(name="Bench", created_at=now)
        uow.session.add(contact)
        await uow.session.flush()
        rows: list[dict[str, Any]] = []
        for i in range(n):
            created = now - timedelta(seconds=(i * 173) % 172800)
            rows.append(
                {
                    "number": i + 1,
                    "inbox": f"wa{i % INBOXES}",
                    "channel": "whatsapp",
                    "contact_id": contact.id,
                    "subject": None,
                    "status": "open" if i % 5 else "closed",
                    "priority": "normal",
                    "created_at": created,
                    "updated_at": created,
                    "waiting_since": created,
                    "sla_state": "ok",
                }
            )
            if len(rows) == 5000:
                await uow.session.execute(insert(Conversation), rows)
                rows = []
        if rows:
            await uow.session.execute(insert(Conversation), rows)
        assert await uow.counters.take_numbers(n) == 1  # new conversations are numbered after the seeded ones
    async with store.transaction() as uow:
        await uow.session.execute(text("ANALYZE"))
    await store.close()


def _backlog(db: str) -> tuple[int, int]:
    with psycopg.connect(db) as conn:
        journal = conn.execute("SELECT count(*) FROM journal WHERE state = 'pending'").fetchone()
        outbox = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
    return int(journal[0] if journal else 0), int(outbox[0] if outbox else 0)


def _proc(pid: int) -> tuple[float, float]:
    """(RSS MB, CPU seconds) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


async def _run(args: argparse.Namespace, db: str) -> None:
    started = time.monotonic()
    await upgrade(db)
    await _seed(db, args.conversations)
    print(f"seeded {args.conversations} conversations in {time.monotonic() - started:.1f} s")
    slack = await FakeSlack().start()
    for agent in range(args.agents):
        slack.add_user(f"UAGENT{agent:02d}", f"Agent {agent}", f"agent{agent}@example.com")
    directory = Path(tempfile.mkdtemp(prefix="tl-bench-load-"))
    ports = {name: free_port() for name in ("east", "west")}
    instances = {}
    for name, port in ports.items():
        config = directory / f"{name}.toml"
        config.write_text(_config(db, name, port, slack.url))
        instances[name] = Instance(config, directory, name)
        instances[name].start()
    balancer = Balancer(ports)
    samples: list[dict[str, Any]] = []
    try:
        async with aiohttp.ClientSession() as http:
            for name, port in ports.items():
                for _ in range(600):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                else:
                    raise SystemExit(f"{name} did not start:\n{instances[name].stderr()[-2000:]}")
            balancer.start()
            await balancer.until_up(set(ports))
            load = Load(balancer.url, args.conversations)
            until = time.monotonic() + args.duration
            begin = time.monotonic()

            async def sample() -> None:
                while time.monotonic() < until + args.sample:
                    journal, outbox = await asyncio.to_thread(_backlog, db)
                    row: dict[str, Any] = {
                        "t": time.monotonic() - begin,
                        "journal": journal,
                        "outbox": outbox,
                    }
                    for name, inst in instances.items():
                        assert inst.process is not None
                        row[name] = _proc(inst.process.pid)
                    samples.append(row)
                    await asyncio.sleep(args.sample)

            await asyncio.gather(
                load.customers(http, args.rate, until),
                *(load.agent(http, a, args.think, until) for a in range(args.agents)),
                sample(),
            )
    finally:
        try:
            for inst in instances.values():
                inst.terminate()
            for inst in instances.values():
                await inst.exited(60)  # kills it after 60 s
        finally:
            for inst in instances.values():
                inst.kill()  # nothing left behind if the other one did not stop
            balancer.stop()
            await slack.stop()
    _report(args, load, samples, slack)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _report(args: argparse.Namespace, load: Load, samples: list[dict[str, Any]], slack: FakeSlack) -> None:
    print(f"{platform.platform()} · Python {platform.python_version()} · {os.cpu_count()} CPUs")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(
        f"{args.conversations} stored conversations, {INBOXES} inboxes, {args.rate}/s for {args.duration} s,"
        f" {args.agents} agents (a command every ~{args.think} s each), two instances on PostgreSQL"
    )
    print(f"webhooks acknowledged {load.sent} (attempts refused: {dict(load.refused)})")
    print(
        f"commands {len(load.acks)} acknowledged (errors: {dict(load.command_errors)}):"
        f" ack p50 {statistics.median(load.acks):.1f} ms · p99 {_pct(load.acks, 0.99):.1f} ms"
        f" · max {max(load.acks):.1f} ms"
    )
    thirds = [samples[0], samples[len(samples) // 2], samples[-1]]
    print(
        "backlog (journal pending + outbox pending) start / middle / end:",
        " / ".join(f"{s['journal']}+{s['outbox']}" for s in thirds),
        f"· max {max(s['journal'] + s['outbox'] for s in samples)}",
    )
    span = samples[-1]["t"] - samples[0]["t"]
    for name in ("east", "west"):
        rss = [s[name][0] for s in samples]
        cpu = (samples[-1][name][1] - samples[0][name][1]) / span * 100 if span else 0.0
        print(
            f"{name}: RSS {min(rss):.0f}–{max(rss):.0f} MB (first {rss[0]:.0f}, last {rss[-1]:.0f})"
            f" · CPU {cpu:.0f} % of a core"
        )
    digests = len(slack.roots("C_DIGEST"))
    print(f"digests posted: {digests} · Slack calls: {len(slack.calls)}")


def main() -> None:
    """Parse the parameters, make a database, run, report, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0, help="customer messages per second")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--think", type=float, default=5.0, help="seconds between one agent's commands")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    admin = os.environ.get("THREADLINE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"threadline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = admin.rsplit("/", 1)[0] + "/" + name
    try:
        asyncio.run(_run(args, db))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
