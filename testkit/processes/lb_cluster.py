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
from testkit.processes.haproxy import Balancer
from testkit.processes.procs import Instance
from testkit.processes.state import rows
from testkit.processes.webhooks import add_whatsapp, webhook_instance
from testkit.slack.fake import FakeSlack
from testkit.slack.rig import slack_surface
from testkit.workers import free_port

NAMES = ("east", "west")


def instance_config(db: str, instance: str, port: int, mode: str, api_url: str) -> str:
    """One instance's configuration: WhatsApp mirrored into the fake Slack (``mode`` "http" or
    "socket"), a reminder a minute after the customer wrote (warned at 10 %), a digest every minute."""
    settings = (
        webhook_instance(db, port=port, instance=instance)
        .set("ops", lease_seconds=3)
        .set("surfaces.slack", **slack_surface(api_url, mode=mode))
        .set("digests.load", surface="slack", chat_channel="C_DIGEST", cron="* * * * *", timezone="UTC")
    )
    if mode == "socket":
        settings.set("surfaces.slack", app_token="xapp-test")
    add_whatsapp(settings, "slack", "C_SUPPORT").set(
        "inboxes.whatsapp.sla", first_response="1m", warn_at_percent=10
    )
    return settings.toml()


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
            config.write_text(instance_config(db, name, ports[name], mode, slack.url))
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
