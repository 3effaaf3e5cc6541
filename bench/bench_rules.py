"""Cost of automation rules: pure rule evaluation, and ingest throughput with 0 vs 12 rules on SQLite.

Run: /tmp/venv/bin/python bench/bench_rules.py [--messages 2000]
Prints a small table; copy it into docs with the machine it ran on (``uname -a``).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import inbound_message  # noqa: E402
from bot.automation import explain, pick  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from testkit.settings import SettingsBuilder  # noqa: E402
from threadline.app import Threadline  # noqa: E402
from threadline.config import AppSettings  # noqa: E402

_CUSTOMERS = 1_000_000  # every message from a new customer


def _settings(tmp: str, rules: bool) -> AppSettings:
    """Two inboxes, agents a, b and c in team t, an acknowledgement template; with ``rules``, ten rules
    that never match and two that do (assign to the team, auto-reply)."""
    settings = (
        SettingsBuilder(f"sqlite:///{tmp}/bench.db", log_level="error")
        .set("surfaces.local")
        .inbox("support", channel="email", address="support@example.com", chat_channel="support")
        .inbox("sales", channel="email", address="sales@example.com", chat_channel="sales")
        .email_to_files(f"{tmp}/out")
        .set("agents.a", name="A")
        .set("agents.b", name="B")
        .set("agents.c", name="C")
        .set("teams.t", members=["a", "b", "c"], max_open_per_agent=100000)
        .set("templates.ack", body="Hi {contact.first_name}, thanks — #{conversation.number}")
    )
    if rules:
        for i in range(10):
            settings.add(
                "rules",
                name=f"r{i}",
                subject_contains=[f"never-{i}", f"nope-{i}"],
                body_regex=f"order\\s+#?{i}\\d+",
                add_labels=[f"l{i}"],
            )
        settings.add(
            "rules",
            name="assign",
            sender_domain=["example.org"],
            assign="team:t",
            add_labels=["auto"],
            priority="high",
        )
        settings.add("rules", name="ack", subject_contains=["question"], auto_reply="ack")
    return settings.settings()


async def _ingest(messages: int, rules: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        app = Threadline(_settings(tmp, rules), clock=SystemClock())
        await app.prepare_database()
        await app.sync_agents()
        batch = [inbound_message(i, _CUSTOMERS) for i in range(messages)]
        started = time.perf_counter()
        await asyncio.gather(*(app.ingestor.ingest(m) for m in batch))
        elapsed = time.perf_counter() - started
        await app.stop()
    return messages / elapsed


def main() -> None:
    """Run the benchmarks and print the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(tmp, True)
    msgs = [inbound_message(i, _CUSTOMERS) for i in range(2000)]
    started = time.perf_counter()
    for msg in msgs:
        explain(settings, msg)
    per_message = (time.perf_counter() - started) / len(msgs)
    started = time.perf_counter()
    last = None
    for _ in range(100_000):
        last = pick(["a", "b", "c", "d", "e"], "round_robin", last=last, away={"c"}, open_counts={}, cap=None)
    per_pick = (time.perf_counter() - started) / 100_000
    without = asyncio.run(_ingest(args.messages, False))
    with_rules = asyncio.run(_ingest(args.messages, True))
    print(f"machine: {platform.platform()} · python {platform.python_version()}")
    print(f"rule evaluation, 12 rules (10 miss, 2 fire): {per_message * 1e6:.1f} µs per message")
    print(f"round-robin pick (5 agents, 1 away): {per_pick * 1e6:.2f} µs")
    print(f"ingest, SQLite, {args.messages} new conversations, 0 rules: {without:,.0f} msg/s")
    print(
        f"ingest, SQLite, {args.messages} new conversations, 12 rules (team assign + auto-reply): "
        f"{with_rules:,.0f} msg/s"
    )


if __name__ == "__main__":
    main()
