"""The email channel through the whole app: real Dovecot → IMAP worker → MIME parse → core ingest
(SQLite) → outbox → the surface's first call.

Measures Threadline's own share (Dovecot's EXISTS → the surface creating the thread), APPEND → surface
end to end, and catch-up of a mailbox already holding N messages (fetch + parse + ingest + store).
Run: .venv/bin/python bench/bench_email_app.py [--samples 100] [--catchup 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.local import LocalSurface  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.ports import ThreadRef  # noqa: E402
from bot.ports.inbound import InboundMessage, IngestResult  # noqa: E402
from bot.views import CardView  # noqa: E402
from testkit.email.dovecot import Dovecot, start_dovecot, stop_dovecot  # noqa: E402
from testkit.settings import SettingsBuilder  # noqa: E402
from threadline.app import Threadline  # noqa: E402


def bench_settings(tmp: str, server: Dovecot) -> SettingsBuilder:
    """One email inbox read from ``server``, on the local surface, logging errors only."""
    return (
        SettingsBuilder(f"sqlite:///{tmp}/bench.db", log_level="error")
        .set("outbox", poll_interval_seconds=0.5)
        .set("surfaces.local")
        .inbox("support", channel="email", address="support@example.com", chat_channel="support")
        .email_to_files(f"{tmp}/out")
        .merge_toml(server.mailbox_toml())
    )


class TimedSurface(LocalSurface):
    """The local surface, noting when each thread was created."""

    def __init__(self) -> None:
        super().__init__()
        self.created: dict[int, float] = {}

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        self.created.setdefault(card.number, time.perf_counter())
        return await super().create_thread(chat_channel, card)


def mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n} <customer{n}@example.org>"
    message["To"] = "support@example.com"
    message["Subject"] = f"Question {n}"
    message["Message-ID"] = f"<bench-{n}-{time.time_ns()}@example.org>"
    message.set_content("Hello,\n\nwhere is my order?\n\n-- \nCustomer\n" * 3)
    return bytes(message)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build(tmp: str, server: Dovecot) -> tuple[Threadline, TimedSurface]:
    app = Threadline(bench_settings(tmp, server).settings(), clock=SystemClock())
    surface = TimedSurface()
    surface.commands = app.commands  # built before the app it types into
    app.surfaces["local"] = app.local = surface
    return app, surface


async def catch_up(count: int) -> dict[str, float]:
    server = start_dovecot()
    tmp = tempfile.mkdtemp()
    try:
        client = server.client()
        for n in range(count):
            client.append("INBOX", mail(n))
        client.logout()
        app, surface = build(tmp, server)
        stored: list[float] = []
        ingest = app.ingestor.ingest

        async def counting(msg: InboundMessage) -> IngestResult:
            result = await ingest(msg)
            stored.append(time.perf_counter())
            return result

        with patch.object(app.ingestor, "ingest", counting):
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            began = time.perf_counter()
            await app.start()
            while len(surface.created) < count:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - began
            ingested = stored[count - 1] - began
            await app.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "rate": count / elapsed,
            "seconds": elapsed,
            "ingest_rate": count / ingested,
            "rss_before": rss_before,
            "rss_after": rss_after,
        }
    finally:
        stop_dovecot(server)


async def latency(samples: int) -> dict[str, float]:
    server = start_dovecot()
    tmp = tempfile.mkdtemp()
    try:
        app, surface = build(tmp, server)
        await app.start()
        assert app.email is not None
        worker = app.email.sources[0]
        client = server.client()
        own, end_to_end = [], []
        await asyncio.sleep(1.0)  # the worker is idling
        for n in range(samples):
            appended = time.perf_counter()
            await asyncio.to_thread(client.append, "INBOX", mail(100_000 + n))
            while n + 1 not in surface.created:
                await asyncio.sleep(0.001)
            created = surface.created[n + 1]
            end_to_end.append((created - appended) * 1000)
            exists = getattr(worker, "last_exists_at", None)
            if exists is not None:
                own.append((created - exists) * 1000)
        client.logout()
        await app.stop()
        return {
            "own_p50": pct(own, 0.5),
            "own_p99": pct(own, 0.99),
            "e2e_p50": pct(end_to_end, 0.5),
            "e2e_p99": pct(end_to_end, 0.99),
            "n": len(end_to_end),
        }
    finally:
        stop_dovecot(server)


def main() -> None:
    """Run both measurements and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--catchup", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {platform.platform()} · Python {platform.python_version()}")
    lat = asyncio.run(latency(args.samples))
    up = asyncio.run(catch_up(args.catchup))
    print("\n| measure | result | target |")
    print("|---|---|---|")
    print(
        f"| own share: EXISTS → surface creates the thread (n={lat['n']:.0f}) | p50 {lat['own_p50']:.1f} ms, "
        f"p99 {lat['own_p99']:.1f} ms | p50 ≤ 50 ms, p99 ≤ 150 ms |"
    )
    print(
        f"| APPEND → surface creates the thread | p50 {lat['e2e_p50']:.0f} ms, p99 {lat['e2e_p99']:.0f} ms "
        f"| p99 ≤ 1 s |"
    )
    print(
        f"| catch-up of {args.catchup:,} messages ingested (fetch + parse + store) | "
        f"{up['ingest_rate']:.0f} msg/s | ≥ 300 msg/s |"
    )
    mirrored = f"{up['rate']:.0f} msg/s ({up['seconds']:.1f} s)"
    print(f"| … and every one mirrored as a thread on the surface | {mirrored} | — |")
    print(f"| peak RSS before → after catch-up | {up['rss_before']:.0f} → {up['rss_after']:.0f} MB | flat |")


if __name__ == "__main__":
    main()
