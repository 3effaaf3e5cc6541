"""Benchmark the Discord surface: interaction handling time until the first response reaches Discord.

Run: ``/tmp/venv/bin/python bench/bench_discord.py [--samples 400]``.
An app on SQLite logged in to the fake Discord REST server (the tests' one, on
loopback); each sample hands an INTERACTION_CREATE payload to discord.py's
``parse_interaction_create`` and stops the clock when the fake receives the
interaction callback. Mixed load: /claim and /unassign (writes), /label with new
and existing labels (writes), label autocomplete (read), card button clicks
(dynamic items). Target: p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from testkit.discord.fake import FakeDiscord  # noqa: E402
from testkit.discord.rig import DiscordRig, build_app, component, email_in, slash  # noqa: E402

__all__ = ["main"]


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def first_response(h: DiscordRig, payload: dict[str, Any]) -> float:
    """Milliseconds from the gateway handing us the payload to the callback arriving at Discord."""
    start = time.perf_counter()
    await h.interact(payload)
    return (time.perf_counter() - start) * 1000


def payloads(h: DiscordRig, thread: int, i: int) -> list[tuple[str, dict[str, Any]]]:
    """One round of the mixed workload."""
    card = h.card(thread)
    return [
        ("claim", slash(h, "claim", {}, channel_id=thread)),
        ("label", slash(h, "label", {"add": f"tag{i % 20}"}, channel_id=thread)),
        ("autocomplete", slash(h, "label", {"add": "ta"}, channel_id=thread, focused="add")),
        ("unassign", slash(h, "unassign", {}, channel_id=thread)),
        ("button", component(h, card, "tl:claim:1", 2)),
        ("list", slash(h, "list", {"which": "open"}, channel_id=None, group="inbox")),
    ]


async def run(samples: int) -> dict[str, list[float]]:
    """Run the workload; timings per kind."""
    logging.disable(logging.WARNING)
    fake = FakeDiscord()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        channel = fake.add_text_channel()
        app, sender = build_app(fake, Path(tmp), clock, channel)
        await app.prepare_database()
        await app.sync_agents()
        assert app.discord is not None
        await app.discord.login()
        h = DiscordRig.around(app, clock, fake, sender, channel)
        for n in range(20):
            await app.ingestor.ingest(email_in(clock.now(), subject=f"case {n}"))
        await app.dispatcher.drain()
        thread = int(fake.threads()[0]["id"])
        timings: dict[str, list[float]] = {}
        for _ in range(10):  # warm-up
            await first_response(h, slash(h, "claim", {}, channel_id=thread))
        i = 0
        while sum(len(v) for v in timings.values()) < samples:
            for kind, payload in payloads(h, thread, i):
                timings.setdefault(kind, []).append(await first_response(h, payload))
            i += 1
            if i % 10 == 0:
                await app.dispatcher.drain()  # keep the outbox from growing without bound
        await app.stop()
    await fake.stop()
    return timings


def main() -> None:
    """Print p50/p99 per interaction kind and overall."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=600)
    args = parser.parse_args()
    timings = asyncio.run(run(args.samples))
    print(platform.uname())
    everything = [t for values in timings.values() for t in values]
    rows = [*timings.items(), ("all", everything)]
    print(f"{'kind':<14}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind, values in rows:
        print(
            f"{kind:<14}{len(values):>6}{statistics.median(values):>10.2f}{percentile(values, 99):>10.2f}"
            f"{max(values):>10.2f}"
        )
    verdict = "met" if percentile(everything, 99) < 50 else "MISSED"
    print(f"target p99 < 50 ms before the first response: {verdict}")


if __name__ == "__main__":
    main()
