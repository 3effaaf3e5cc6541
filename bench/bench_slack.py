"""Benchmark the Slack surface: ack latency of slash commands and buttons, and draining a backlog.

Run: ``/tmp/venv/bin/python bench/bench_slack.py [--acks 500] [--backlog 1000] [--rate 50]``.

1. Ack latency: a signed slash command (``/inbox list mine``) and a signed card button
   (Claim) go through ``AsyncApp.async_dispatch`` (signature check, auth, listener, ack)
   while the work they queue runs concurrently on the same loop. Target p99 < 50 ms.
2. Backlog: ``--backlog`` new conversations are ingested at once into one Slack channel;
   the outbox drains them to the fake Web API, which enforces ``--rate`` chat.postMessage
   per second per channel (429 + Retry-After: 1 above it). Pacing is set to 90 % of that
   rate. Success: every card and first message posted exactly once, no 429 loops.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402
from bot.ports.inbound import InboundMessage  # noqa: E402
from testkit.slack.fake import FakeSlack  # noqa: E402
from testkit.slack.payloads import block_action, slash  # noqa: E402
from testkit.slack.rig import CHANNEL, slack_settings  # noqa: E402
from threadline.app import Threadline  # noqa: E402

__all__ = ["main"]


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def build(tmp: Path, fake: FakeSlack, rate: float, pace_share: float = 0.9) -> Threadline:
    """An app on SQLite in ``tmp`` wired to the fake Slack, paced at ``pace_share`` of ``rate``."""
    settings = slack_settings(tmp, fake.url).set(
        "surfaces.slack", pace_per_second=rate * pace_share, pace_burst=1
    )
    app = Threadline(settings.settings(), clock=SystemClock())
    await app.prepare_database()
    return app


def email(n: int) -> InboundMessage:
    """The ``n``-th customer email of the run."""
    return InboundMessage(
        channel="email",
        inbox="support",
        external_id=f"<bench-{n}-{time.time_ns()}@x>",
        sender_address=f"customer{n}@example.com",
        sender_name=f"Customer {n}",
        received_at=SystemClock().now(),
        text=f"Order {n} did not arrive.",
        subject=f"Order {n}",
    )


async def ack_latency(tmp: Path, count: int) -> dict[str, tuple[float, float, int]]:
    """p50/p99 (ms) of slash command and button dispatch, and how many got their ephemeral answer."""
    fake = await FakeSlack().start()
    fake.add_user("UALICE", "Alice")
    app = await build(tmp / "acks", fake, 1000.0)
    assert app.slack is not None
    await app.ingestor.ingest(email(0))
    await app.dispatcher.drain()
    card = fake.roots(CHANNEL)[0]
    actions = card["blocks"][-1]
    claim = {
        **next(e for e in actions["elements"] if e["action_id"] == "tl_claim"),
        "block_id": actions["block_id"],
    }
    url = f"{fake.root}/response/bench"
    results: dict[str, tuple[float, float, int]] = {}
    for name, make in (
        ("slash command", lambda: slash("list mine", response_url=url)),
        ("button (Claim)", lambda: block_action(claim, card=card, response_url=url)),
    ):
        await app.slack.app.async_dispatch(make())  # warm up (auth.test, users.info caches)
        await app.slack.settle()
        timings, answered = [], len(fake.responses)
        for i in range(count):
            request = make()
            start = time.perf_counter()
            response = await app.slack.app.async_dispatch(request)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status == 200
            if i % 25 == 24:
                await app.slack.settle()
        await app.slack.settle()
        results[name] = (percentile(timings, 50), percentile(timings, 99), len(fake.responses) - answered)
    await app.slack.stop()
    await app.store.close()
    await fake.stop()
    return results


async def backlog(tmp: Path, count: int, rate: float, pace_share: float) -> dict[str, float]:
    """Drain ``count`` new conversations into one channel at the fake's rate limit."""
    fake = await FakeSlack().start()
    fake.rate_limit(rate, 5)
    app = await build(tmp / "backlog", fake, rate, pace_share)
    for n in range(count):
        await app.ingestor.ingest(email(n))
    start = time.perf_counter()
    runner = asyncio.create_task(app.dispatcher.run())
    expected = 2 * count
    while len(fake.messages) < expected and time.perf_counter() - start < 3 * expected / rate + 60:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    app.dispatcher.stop()
    await runner
    cards = fake.roots(CHANNEL)
    numbers = [int(c["text"].split(" · ")[0].lstrip("#")) for c in cards]
    swapped = sum(1 for a, b in itertools.pairwise(numbers) if a > b)
    firsts = [m for m in fake.messages.values() if m.get("thread_ts")]
    limited = len(fake.called("chat.postMessage")) - len(fake.messages)
    per_thread: dict[str, int] = {}
    for message in firsts:
        per_thread[message["thread_ts"]] = per_thread.get(message["thread_ts"], 0) + 1
    await app.store.close()
    await fake.stop()
    return {
        "conversations": count,
        "cards": len(cards),
        "neighbouring cards out of arrival order": swapped,
        "first messages": len(firsts),
        "threads with exactly one message": sum(1 for v in per_thread.values() if v == 1),
        "429 answers": limited,
        "seconds": elapsed,
        "messages/s": len(fake.messages) / elapsed,
    }


async def run(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        acks = await ack_latency(Path(tmp), args.acks)
        drained = await backlog(Path(tmp), args.backlog, args.rate, args.pace) if args.backlog else {}
    print(
        f"# Slack surface benchmark\n\n`{' '.join(platform.uname())}`, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    print(f"## Ack latency through AsyncApp.async_dispatch ({args.acks} requests each, signed)\n")
    print("| request | p50 ms | p99 ms | target p99 | answered (work after the ack) |\n|---|---|---|---|---|")
    for name, (p50, p99, answered) in acks.items():
        print(
            f"| {name} | {p50:.2f} | {p99:.2f} | < 50 ms {'✓' if p99 < 50 else '✗'} "
            f"| {answered}/{args.acks} |"
        )
    if not drained:
        return
    print(
        f"\n## Backlog: {args.backlog} new conversations, one channel, fake limit {args.rate:g} msg/s "
        f"(pacing {args.rate * args.pace:g} msg/s)\n"
    )
    print("| measure | value |\n|---|---|")
    for key, value in drained.items():
        print(f"| {key} | {value:.1f} |" if isinstance(value, float) else f"| {key} | {value} |")


def main() -> None:
    """Parse arguments and print the figures as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acks", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=1000, help="0 skips the backlog part")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="fake Slack's chat.postMessage limit per channel"
    )
    parser.add_argument(
        "--pace", type=float, default=0.9, help="Threadline's pacing as a share of --rate (above 1: 429s)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
