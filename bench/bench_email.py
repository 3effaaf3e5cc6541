"""Benchmark the email channel: MIME parse throughput, IMAP IDLE latency, and catch-up speed.

Run: ``/tmp/venv/bin/python bench/bench_email.py [--samples 60] [--catchup 5000]``.
The IMAP parts start a throwaway Dovecot on loopback (as the tests do) and skip
when /usr/sbin/dovecot is missing. Targets: own share (EXISTS → ingest call) p50 ≤ 50 ms
and p99 ≤ 150 ms; APPEND → ingest p99 ≤ 1 s; catch-up ≥ 300 msg/s; a message appended at any
moment of a 1,000-message catch-up ingested within 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.email.classify import is_own_message  # noqa: E402
from adapters.email.imap import ImapWorker  # noqa: E402
from adapters.email.mime import parse_email  # noqa: E402
from adapters.email.settings import MailboxSettings  # noqa: E402
from bot.ports.inbound import InboundMessage, IngestResult  # noqa: E402

__all__ = ["main"]

CORPUS = ROOT / "tests" / "fixtures" / "mime"
OWN = {"threadline.test"}


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def rss_mib() -> float:
    """Current resident set size in MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sample_mail(n: int) -> bytes:
    """A realistic small customer message (~3 KB): plain + HTML alternative, quoted history."""
    quote = "".join(f"> earlier line {i} of the conversation\r\n" for i in range(20))
    return (
        f"From: Customer {n} <customer{n}@example.com>\r\nTo: support@threadline.test\r\n"
        f"Subject: Order {n} did not arrive [#{n % 500 + 1}]\r\n"
        f"Message-ID: <bench-{n}-{time.time_ns()}@example.com>\r\n"
        f"In-Reply-To: <tl.{n}@threadline.test>\r\nDate: Mon, 05 Jan 2026 09:00:00 +0000\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello,\r\n\r\nmy order {n} never arrived. Can you check?\r\n\r\n"
        f"Thanks\r\n-- \r\nCustomer {n}\r\n\r\n"
        f"On Mon, Jan 5, 2026 at 9:00 AM Support <support@threadline.test> wrote:\r\n{quote}"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><body><p>Hello,</p><p>my order <b>{n}</b> never arrived.</p><blockquote>{quote}</blockquote>"
        "</body></html>\r\n--b--\r\n"
    ).encode()


def bench_parse(rounds: int) -> list[tuple[str, str]]:
    """Parse the fixture corpus plus generated messages; report messages and MB per second."""
    raws = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))] + [sample_mail(n) for n in range(20)]
    total_bytes = sum(map(len, raws)) * rounds
    began = time.perf_counter()
    for _ in range(rounds):
        for raw in raws:
            parse_email(raw, inbox="support", own_message_id_domains=OWN)
    elapsed = time.perf_counter() - began
    count = len(raws) * rounds
    return [
        (
            "parse throughput (corpus + generated)",
            f"{count / elapsed:,.0f} msg/s, {total_bytes / elapsed / 1e6:.1f} MB/s",
        ),
    ]


class Probe:
    """A fake ingest that timestamps each call and stores the cursor."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.called_at: dict[str, float] = {}  # external id -> call time
        self.cursors: dict[str, str] = {}
        self.event = asyncio.Event()

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Record the call time."""
        self.calls.append(time.perf_counter())
        self.called_at[message.external_id] = self.calls[-1]
        if message.cursor:
            self.cursors[message.cursor.key] = message.cursor.value
        self.event.set()
        return IngestResult(duplicate=False, conversation_number=1)

    async def load_cursor(self, key: str) -> str | None:
        """Stored cursor."""
        return self.cursors.get(key)

    async def save_cursor(self, key: str, value: str) -> None:
        """Store a cursor."""
        self.cursors[key] = value

    async def wait_count(self, count: int, limit: float) -> None:
        """Wait until ``count`` calls happened (raises TimeoutError after ``limit`` seconds)."""
        async with asyncio.timeout(limit):
            while len(self.calls) < count:
                self.event.clear()
                await self.event.wait()


def make_worker(server: Any, probe: Probe, exists: list[float], since: str = "none") -> ImapWorker:
    """An ImapWorker on the bench Dovecot feeding ``probe``."""
    settings = MailboxSettings(
        inbox="support",
        host="127.0.0.1",
        port=server.port,
        security="none",
        username="support",
        password="secret",
        since=since,
    )
    return ImapWorker(
        settings,
        "bench",
        probe.ingest,
        probe.load_cursor,
        partial(parse_email, inbox="support", own_message_id_domains=OWN),
        save_cursor=probe.save_cursor,
        is_own=partial(is_own_message, own_message_id_domains=OWN),
        on_exists=exists.append,
    )


async def bench_idle(server: Any, samples: int) -> list[tuple[str, str]]:
    """APPEND one message at a time and time EXISTS → ingest (own share) and APPEND → ingest (end to end)."""
    probe, exists = Probe(), list[float]()
    worker = make_worker(server, probe, exists)
    task = asyncio.create_task(worker.run())
    await asyncio.to_thread(worker.connected.wait, 10)
    appender = server.client()
    own, end_to_end = [], []
    for n in range(samples):
        exists.clear()
        await asyncio.sleep(0.05)  # let the worker re-enter IDLE
        began = time.perf_counter()
        await asyncio.to_thread(appender.append, "INBOX", sample_mail(n))
        await probe.wait_count(n + 1, 10)
        end_to_end.append(probe.calls[-1] - began)
        if exists:
            own.append(probe.calls[-1] - exists[0])
    appender.logout()
    await worker.stop()
    await task
    ms = 1000
    return [
        (
            f"IDLE own share EXISTS→ingest (n={len(own)})",
            f"p50 {statistics.median(own) * ms:.1f} ms, p99 {percentile(own, 99) * ms:.1f} ms",
        ),
        (
            f"APPEND→ingest end to end (n={len(end_to_end)})",
            f"p50 {statistics.median(end_to_end) * ms:.0f} ms, p99 {percentile(end_to_end, 99) * ms:.0f} ms",
        ),
    ]


async def bench_catch_up(server: Any, count: int) -> list[tuple[str, str]]:
    """Pre-APPEND ``count`` messages, then time a fresh worker ingesting all of them (fetch + parse)."""

    def fill() -> None:
        appender = server.client()
        for n in range(count):
            appender.append("INBOX", sample_mail(100_000 + n))
        appender.logout()

    await asyncio.to_thread(fill)
    probe, exists = Probe(), list[float]()
    worker = make_worker(server, probe, exists, since="7d")
    rss_before, peak = rss_mib(), [rss_mib()]
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(0.05):
            peak.append(rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    task = asyncio.create_task(worker.run())
    await probe.wait_count(count, 600)
    elapsed = time.perf_counter() - began
    stop_sampling.set()
    await worker.stop()
    await task
    return [
        (f"catch-up of {count:,} messages (fetch + parse + ingest call)", f"{count / elapsed:,.0f} msg/s"),
        ("peak RSS during catch-up", f"{max(peak):.0f} MiB (before: {rss_before:.0f} MiB)"),
    ]


async def bench_arrivals_during_catch_up(server: Any, backlog: int, arrivals: int) -> list[tuple[str, str]]:
    """Pre-APPEND ``backlog`` messages; while a fresh worker catches up, APPEND one more message each
    time another ``backlog / arrivals`` of the backlog was ingested; time each one APPEND → ingest."""
    await asyncio.to_thread(_multiappend, server, [sample_mail(200_000 + n) for n in range(backlog)])
    probe, exists = Probe(), list[float]()
    worker = make_worker(server, probe, exists, since="7d")
    task = asyncio.create_task(worker.run())
    appender = server.client()
    appended: dict[str, float] = {}
    step = max(1, backlog // arrivals)
    for k in range(arrivals):
        await probe.wait_count(min(backlog, k * step + 1), 600)
        n = 300_000 + k
        await asyncio.to_thread(appender.append, "INBOX", sample_mail(n))
        appended[f"<bench-{n}-"] = time.perf_counter()  # its Message-ID starts so
    await probe.wait_count(backlog + arrivals, 60)
    appender.logout()
    await worker.stop()
    await task
    waits = [
        called - appended[prefix]
        for key, called in probe.called_at.items()
        for prefix in appended
        if key.startswith(prefix)
    ]
    return [
        (
            f"APPEND during a {backlog:,}-message catch-up → ingest (n={len(waits)}, spread over it)",
            f"median {statistics.median(waits):.2f} s, max {max(waits):.2f} s",
        ),
    ]


def _multiappend(server: Any, raws: list[bytes]) -> None:
    client = server.client()
    try:
        client.multiappend("INBOX", raws)
    finally:
        client.logout()


async def run(args: argparse.Namespace) -> list[tuple[str, str]]:
    """All benchmarks, as (measure, result) rows."""
    rows = bench_parse(args.rounds)
    if not args.dovecot:
        return [*rows, ("IMAP benchmarks", "skipped: /usr/sbin/dovecot missing")]
    from testkit.email.dovecot import start_dovecot, stop_dovecot

    server = start_dovecot()
    try:
        rows += await bench_idle(server, args.samples)
    finally:
        stop_dovecot(server)
    server = start_dovecot()
    try:
        rows += await bench_catch_up(server, args.catchup)
    finally:
        stop_dovecot(server)
    server = start_dovecot()
    try:
        rows += await bench_arrivals_during_catch_up(server, args.backlog, args.arrivals)
    finally:
        stop_dovecot(server)
    return rows


def main() -> None:
    """Parse arguments, run, print a Markdown table with the machine description."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=60, help="IDLE latency samples")
    parser.add_argument("--catchup", type=int, default=5000, help="messages for the catch-up run")
    parser.add_argument("--rounds", type=int, default=100, help="passes over the parse corpus")
    parser.add_argument("--backlog", type=int, default=1000, help="catch-up size for the arrival run")
    parser.add_argument("--arrivals", type=int, default=10, help="messages appended during that catch-up")
    args = parser.parse_args()
    args.dovecot = os.path.exists("/usr/sbin/dovecot")
    rows = asyncio.run(run(args))
    print(
        f"machine: {os.cpu_count()} cores; {' '.join(platform.uname())}; Python {platform.python_version()}"
    )
    print()
    print("| measure | result |")
    print("|---|---|")
    for measure, result in rows:
        print(f"| {measure} | {result} |")


if __name__ == "__main__":
    main()
