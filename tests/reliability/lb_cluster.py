"""Two ``threadline run`` instances on one PostgreSQL behind a real HAProxy, mirroring a WhatsApp
inbox into the fake Slack (HTTP mode or Socket Mode), with an SLA (a reminder 6 s after the
customer wrote, a breach after a minute) and a digest every minute; and what the team saw, read
back from the fake."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

from storage.db import sync_url
from testkit.slack.fake import FakeSlack
from testkit.workers import free_port
from tests.reliability.haproxy import Balancer
from tests.reliability.procs import Instance
from tests.reliability.state import rows
from tests.reliability.test_crash_journal import whatsapp_section

CONFIG = """
[threadline]
database_url = "{db}"
log_level = "info"
log_format = "json"

[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)
backoff_base_seconds = 0.2
backoff_max_seconds = 1.0
poll_interval_seconds = 0.1

[ops]
instance_name = "{instance}"
lease_seconds = 3
claim_seconds = 2

[web]
host = "127.0.0.1"
port = {port}

[surfaces.slack]
bot_token = "xoxb-test"
signing_secret = "test-signing-secret"
mode = "{mode}"
api_base_url = "{api}"
rate_limit_retries = 0
pace_per_second = 1000
pace_burst = 1000
{app_token}

[digests.load]
surface = "slack"
chat_channel = "C_DIGEST"
cron = "* * * * *"
timezone = "UTC"
"""
SLA = """
[inboxes.whatsapp.sla]
first_response = "1m"
warn_at_percent = 10
"""
NAMES = ("east", "west")
_REMINDER = re.compile(r"(⏰|🚨) (?:@\S+: )?#(\d+) first response")


def seed_digest_run(url: str, minutes_ago: int = 10) -> None:
    """A digest run posted ``minutes_ago``: the runs since then were missed and are due at start."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=minutes_ago)
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as db:
            db.execute(
                text(
                    "INSERT INTO digest_runs (name, period_start, period_end, claimed_at, sent_at, late) "
                    "VALUES ('load', :start, :end, :end, :end, false)"
                ),
                {"start": end - timedelta(minutes=1), "end": end},
            )
    finally:
        engine.dispose()


@dataclass
class Cluster:
    """The instances (by name), their ports, HAProxy in front of them, and the fake Slack."""

    instances: dict[str, Instance]
    ports: dict[str, int]
    balancer: Balancer
    slack: FakeSlack
    db: str

    @classmethod
    def write(
        cls,
        db: str,
        slack: FakeSlack,
        directory: Path,
        haproxy: Callable[[dict[str, int]], Balancer],
        mode: str = "http",
    ) -> Cluster:
        """Configure two instances and HAProxy (from the ``haproxy`` fixture; nothing started)."""
        ports = {name: free_port() for name in NAMES}
        instances = {}
        for name in NAMES:
            config = directory / f"{name}.toml"
            app_token = 'app_token = "xapp-test"' if mode == "socket" else ""
            config.write_text(
                CONFIG.format(
                    db=db, instance=name, port=ports[name], mode=mode, api=slack.url, app_token=app_token
                )
                + whatsapp_section("slack", "C_SUPPORT")
                + SLA
            )
            instances[name] = Instance(config, directory, name)
        return cls(instances, ports, haproxy(ports), slack, db)

    async def start(self) -> None:
        """Start both instances, wait until each answers ``/healthz``, then start HAProxy."""
        for instance in self.instances.values():
            instance.start()
        async with aiohttp.ClientSession() as http:
            for name, instance in self.instances.items():
                await _answers(http, f"http://127.0.0.1:{self.ports[name]}/healthz", instance)
        self.balancer.start()
        await self.balancer.until_up(set(NAMES))

    async def stop(self) -> None:
        """SIGTERM the live instances, wait for them, stop HAProxy."""
        try:
            for instance in self.instances.values():
                instance.terminate()
            for instance in self.instances.values():
                if instance.process is not None:
                    await instance.exited()
        finally:
            for instance in self.instances.values():
                instance.kill()
            self.balancer.stop()

    def logs(self) -> tuple[Instance, ...]:
        """The instances, for ``until``'s failure message."""
        return tuple(self.instances.values())

    def threads(self) -> dict[int, str]:
        """Conversation number -> its Slack thread's ``ts``."""
        found = rows(
            self.db,
            "SELECT c.number, t.thread_id FROM conversations c JOIN threads t ON t.conversation_id = c.id",
        )
        return {int(str(number)): str(ts) for number, ts in found}

    def thread_posts(self) -> list[str]:
        """The text of every message the team sees inside a thread of the support channel."""
        return [
            str(m.get("text") or "")
            for m in self.slack.messages.values()
            if m["channel"] == "C_SUPPORT" and m.get("thread_ts")
        ]

    def reminders(self) -> tuple[Counter[int], Counter[int]]:
        """Per conversation number: the SLA reminders (⏰) and breach notices (🚨) posted in Slack."""
        warnings: Counter[int] = Counter()
        breaches: Counter[int] = Counter()
        for post in self.thread_posts():
            if found := _REMINDER.search(post):
                (warnings if found[1] == "⏰" else breaches)[int(found[2])] += 1
        return warnings, breaches

    def digests_sent(self) -> int:
        """Digest runs marked sent (the seeded one included)."""
        found = rows(self.db, "SELECT count(*) FROM digest_runs WHERE sent_at IS NOT NULL")
        return int(str(found[0][0])) if found else 0


async def _answers(http: aiohttp.ClientSession, url: str, instance: Instance, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        assert instance.alive, instance.stderr()[-3000:]
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{instance.name} not up:\n{instance.stderr()[-3000:]}")
