"""Benchmark webhook acceptance end to end: signed WhatsApp webhooks into a real ``threadline run`` process.

Run: ``.venv/bin/python bench/bench_webhooks.py [--messages 3000] [--rate 1000] [--write]``.

The server is a real ``python -m threadline.cli run`` process (SQLite, local surface, the WhatsApp
channel on the shared web server). This process is the load generator: it posts signed,
Meta-shaped bodies over loopback in an open loop at ``--rate`` per second (latency counted from
each request's scheduled time, so a stalled server is not hidden) over kept-alive connections,
after a warm-up burst of 1,000 that is left to settle (stored and mirrored), then:

1. **accepted**: requests/s answered 200 and the latency percentiles of the answers;
2. **acknowledged-to-stored lag**: with the process left running, how long after its 200 each
   message is a stored row (``messages.created_at`` minus the answer's time), p50/p99;
3. **kill -9 at the end of the burst**: a second burst, the process SIGKILLed right after the last
   200, restarted; every acknowledged message must be stored once. ``lost`` = acknowledged but not
   stored after the restart has settled.

Targets: ≥ 1,000 webhooks/s accepted, p99 ≤ 50 ms, lost = 0. ``--write`` appends the figures to
docs/benchmarks.md. Imports nothing from tests/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.whatsapp import SIGNATURE_HEADER, sign_body  # noqa: E402
from bot.digest.percentiles import percentile  # noqa: E402
from testkit.settings import SettingsBuilder  # noqa: E402
from testkit.whatsapp.graph import PHONE_NUMBER_ID  # noqa: E402
from testkit.whatsapp.payloads import envelope, message  # noqa: E402
from testkit.workers import free_port  # noqa: E402

__all__ = ["main"]

SECRET = "bench-secret"


def server_config(db: Path, port: int) -> str:
    """The measured server: the WhatsApp webhook on 127.0.0.1:``port``, mirrored to the local surface."""
    return (
        SettingsBuilder(f"sqlite:///{db}")
        .set("web", host="127.0.0.1", port=port)
        .set("ops", instance_name="bench")
        .local_surface("alice", color=False)
        .inbox(
            "whatsapp",
            name="WhatsApp",
            channel="whatsapp",
            address="+31205550100",
            surface="local",
            chat_channel="whatsapp",
        )
        .set(
            "channels.whatsapp",
            inbox="whatsapp",
            phone_number_id=PHONE_NUMBER_ID,
            access_token="bench-token",
            app_secret=SECRET,
            verify_token="bench-verify",
            graph_base_url="http://127.0.0.1:9",
        )
        .toml()
    )


def webhook_body(burst: str, i: int) -> bytes:
    """A Meta-shaped webhook body with one text message (wamid ``wamid.<burst><i>``)."""
    wa_id = f"3161{i % 300:07d}"
    text = message(
        "text",
        {"body": f"Hello, this is message {i} about my order."},
        when=datetime.now(UTC),
        wamid=f"wamid.{burst}{i:08d}",
        wa_id=wa_id,
    )
    return json.dumps(envelope(messages=[text], name=f"Customer {i % 300}", wa_id=wa_id)).encode()


class Server:
    """One ``threadline run`` process with the WhatsApp webhook."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.db = directory / "bench.db"
        self.config = directory / "bench.toml"
        self.config.write_text(server_config(self.db, self.port))
        self.log = directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The webhook URL."""
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp"

    def spawn(self) -> None:
        """Start the process."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "threadline.cli", "--config", str(self.config), "run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    async def start(self) -> None:
        """Start the process and wait for ``/healthz``."""
        self.spawn()
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the server did not start:\n" + self.log.read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL the process."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> None:
        """SIGTERM and wait."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)

    def pending_outbox(self) -> int:
        """Outbox rows not delivered yet (threads being mirrored)."""
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as db:
                return int(
                    db.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one()
                )
        finally:
            engine.dispose()

    def stored(self, prefix: str) -> dict[str, datetime]:
        """Stored inbound wamids of a burst and when each was stored."""
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as db:
                rows = db.execute(
                    text("SELECT external_id, created_at FROM messages WHERE external_id LIKE :p"),
                    {"p": f"wamid.{prefix}%"},
                ).all()
        except Exception:
            return {}
        finally:
            engine.dispose()
        return {
            str(r[0]): r[1] if isinstance(r[1], datetime) else datetime.fromisoformat(str(r[1])) for r in rows
        }


async def burst(
    http: aiohttp.ClientSession, url: str, name: str, count: int, rate: float
) -> tuple[dict[str, float], list[float], float]:
    """Post ``count`` webhooks at ``rate``/s; the wall time each acknowledged wamid got its 200,
    every 200's latency (ms, from its scheduled time), and the burst's duration."""
    acked: dict[str, float] = {}
    latencies: list[float] = []
    bodies = [webhook_body(name, i) for i in range(count)]
    start = time.perf_counter() + 0.2  # the schedule starts once every request's task is waiting

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        body = bodies[i]
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(SECRET, body)}
        try:
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    latencies.append((time.perf_counter() - scheduled) * 1000)
                    acked[f"wamid.{name}{i:08d}"] = time.time()
        except aiohttp.ClientError:
            pass

    await asyncio.gather(*(one(i) for i in range(count)))
    duration = time.perf_counter() - start
    return acked, latencies, duration


async def settle(server: Server, prefix: str, want: int, timeout: float = 120.0) -> dict[str, datetime]:
    """Poll until ``want`` messages of the burst are stored (or stored stops growing)."""
    deadline, last, still = time.monotonic() + timeout, -1, 0
    while True:
        stored = server.stored(prefix)
        if len(stored) >= want or time.monotonic() > deadline:
            return stored
        still = still + 1 if len(stored) == last else 0
        if still > 50:  # nothing new for 5 s: what is missing is lost
            return stored
        last = len(stored)
        await asyncio.sleep(0.1)


async def run(messages: int, rate: float) -> dict[str, Any]:
    """The three measurements; figures as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        await server.start()
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))  # kept-alive connections
        await burst(http, server.url, "WARM", 1000, rate)
        await settle(server, "WARM", 1000)
        while server.pending_outbox():  # the warm-up mirrored too: the burst starts on an idle server
            await asyncio.sleep(0.2)
        acked, latencies, duration = await burst(http, server.url, "A", messages, rate)
        stored = await settle(server, "A", len(acked))
        lags = [
            (when.replace(tzinfo=UTC).timestamp() - acked[wamid]) * 1000
            for wamid, when in stored.items()
            if wamid in acked
        ]
        acked_b, _, _ = await burst(http, server.url, "B", messages, rate)
        await http.close()
        server.kill()
        await server.start()
        stored_b = await settle(server, "B", len(acked_b))
        server.terminate()
        lost = len(set(acked_b) - set(stored_b))
    return {
        "messages": messages,
        "offered_rate": rate,
        "accepted": len(acked),
        "accepted_per_second": len(acked) / duration,
        "p50_ms": percentile(latencies, 50) or float("nan"),
        "p99_ms": percentile(latencies, 99) or float("nan"),
        "lag_p50_ms": percentile(lags, 50) or float("nan"),
        "lag_p99_ms": percentile(lags, 99) or float("nan"),
        "stored_after_run": len(stored),
        "kill_acknowledged": len(acked_b),
        "kill_lost": lost,
    }


def report(figures: dict[str, Any], label: str) -> str:
    """The figures as a Markdown section."""
    load = os.getloadavg()[0]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at the end"
    )
    return (
        f"\n### Webhook acceptance ({label}) — {datetime.now(UTC):%Y-%m-%d}, {machine}\n\n"
        "`bench/bench_webhooks.py`: signed WhatsApp webhooks over loopback into a real `threadline run` "
        f"(SQLite), open loop at {figures['offered_rate']:.0f}/s, {figures['messages']} per burst.\n\n"
        "| measure | value |\n|---|---|\n"
        f"| accepted (200) | {figures['accepted']} of {figures['messages']} "
        f"({figures['accepted_per_second']:.0f}/s) |\n"
        f"| latency p50 / p99 | {figures['p50_ms']:.1f} ms / {figures['p99_ms']:.1f} ms |\n"
        f"| acknowledged-to-stored lag p50 / p99 | {figures['lag_p50_ms']:.0f} ms / "
        f"{figures['lag_p99_ms']:.0f} ms |\n"
        f"| kill -9 after the burst: acknowledged / lost | {figures['kill_acknowledged']} / "
        f"{figures['kill_lost']} |\n"
    )


def main() -> None:
    """Parse arguments, run, print (and optionally record) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--label", default="journal before the 200")
    parser.add_argument("--write", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    figures = asyncio.run(run(args.messages, args.rate))
    print(json.dumps(figures, indent=2))
    section = report(figures, args.label)
    print(section)
    if args.write:
        with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as docs:
            docs.write(section)


if __name__ == "__main__":
    main()
