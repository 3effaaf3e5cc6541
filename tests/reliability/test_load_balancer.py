"""Two instances behind a real HAProxy on one PostgreSQL: WhatsApp webhooks and Slack HTTP-mode
events and slash commands are spread over both (or, in Socket Mode, Slack spreads envelopes over
the instances' two connections); one instance is SIGKILLed mid-load, HAProxy's
health check takes it out and the senders retry what failed, as Meta and Slack do. Afterwards
every acknowledged message, note and command was processed exactly once (in storage and on the
team's side in Slack), and every SLA reminder, breach notice and digest was posted once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import aiohttp

from testkit.processes.haproxy import Balancer
from testkit.processes.lb_checks import check_storage, check_team_side, settle
from testkit.processes.lb_cluster import Cluster, seed_digest_run
from testkit.processes.procs import until
from testkit.processes.senders import Meta, Slack
from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import event_callback, slash_fields

FIRST = 16  # customers who wrote before the agents start working
LATER = 16  # customers who write while the agents work and an instance dies


async def paced(jobs: list[Callable[[], Awaitable[None]]], every: float) -> None:
    """Start one job every ``every`` s (traffic arrives over time, not in one burst); wait for all."""

    async def later(index: int, job: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(index * every)
        await job()

    await asyncio.gather(*(later(i, job) for i, job in enumerate(jobs)))


async def test_http_mode_behind_haproxy_once_each_and_a_kill_loses_nothing(
    pg_db: str, slack: FakeSlack, haproxy: Callable[[dict[str, int]], Balancer], tmp_path: Path
) -> None:
    seed_digest_run(pg_db)  # the runs since are due: both instances try to post them at start
    cluster = Cluster.write(pg_db, slack, tmp_path, haproxy)
    meta = Meta(cluster.balancer.url)
    agents = Slack(cluster.balancer.url, response_url=f"{slack.root}/response/lb")
    total = FIRST + LATER
    await cluster.start()
    try:
        await meta.post(list(range(FIRST)))
        await until(lambda: len(cluster.threads()) == FIRST, 60, "the first cards", *cluster.logs())
        threads = cluster.threads()

        async def kill_east() -> None:
            cluster.instances["east"].kill()  # mid-load, with work claimed and requests in flight

        async with aiohttp.ClientSession() as http:
            jobs: list[Callable[[], Awaitable[None]]] = []
            for i, (number, ts) in enumerate(sorted(threads.items())):
                jobs.append(partial(meta.post, [FIRST + i]))
                jobs.append(partial(agents.note, http, f"EvLB{number}", f"note on #{number}", ts))
                jobs.append(partial(agents.command, http, f"claim #{number}"))
                if i == FIRST // 3:
                    jobs.append(kill_east)
            await paced(jobs, 0.04)
        await cluster.balancer.until_up({"west"})

        assert meta.acked == set(range(total)), meta.refused
        assert agents.acked_events == {f"EvLB{n}" for n in threads}, agents.refused
        assert set(agents.acked_commands) == {f"claim #{n}" for n in threads}, agents.refused
        served = {name: int(row["stot"]) for name, row in cluster.balancer.stats().items()}
        assert all(served.values()), f"HAProxy should have spread requests over both: {served}"

        await settle(cluster, total, FIRST)
    finally:
        await cluster.stop()

    check_storage(cluster, total, threads)
    check_team_side(cluster, total, threads)


def _note_payload(number: int, thread_ts: str) -> dict[str, object]:
    event = {
        "type": "message",
        "channel": "C_SUPPORT",
        "user": "UALICE",
        "text": f"note on #{number}",
        "ts": f"{time.time():.6f}",
        "thread_ts": thread_ts,
        "channel_type": "channel",
    }
    return event_callback(event, event_id=f"EvSock{number}")


async def test_socket_mode_one_connection_per_instance_and_a_kill_loses_nothing(
    pg_db: str, slack: FakeSlack, haproxy: Callable[[dict[str, int]], Balancer], tmp_path: Path
) -> None:
    seed_digest_run(pg_db)
    slack.socket.retry_seconds = 0.5
    cluster = Cluster.write(pg_db, slack, tmp_path, haproxy, mode="socket")
    meta = Meta(cluster.balancer.url)  # WhatsApp still comes in over HTTP, through HAProxy
    total = FIRST + LATER
    await cluster.start()
    try:
        await until(lambda: len(slack.socket.open()) == 2, 60, "a connection per instance", *cluster.logs())
        await meta.post(list(range(FIRST)))
        await until(lambda: len(cluster.threads()) == FIRST, 60, "the first cards", *cluster.logs())
        threads = cluster.threads()
        response_url = f"{slack.root}/response/socket"

        async def command(number: int) -> None:
            """Alice types the claim; when Slack shows it failed (no ack in 3 s) she types it again."""
            for _ in range(4):
                envelope = slack.socket.deliver(
                    "slash_commands", slash_fields(f"claim #{number}", response_url=response_url)
                )
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline and not slack.socket.acked(envelope):
                    await asyncio.sleep(0.05)
                if slack.socket.acked(envelope):
                    return

        async def note(number: int, ts: str) -> None:
            slack.socket.deliver("events_api", _note_payload(number, ts))  # redelivered until acked

        async def kill_east() -> None:
            cluster.instances["east"].kill()

        jobs: list[Callable[[], Awaitable[None]]] = []
        for i, (number, ts) in enumerate(sorted(threads.items())):
            jobs.append(partial(meta.post, [FIRST + i]))
            jobs.append(partial(note, number, ts))
            jobs.append(partial(command, number))
            if i == FIRST // 3:
                jobs.append(kill_east)
        await paced(jobs, 0.04)
        assert meta.acked == set(range(total)), meta.refused
        connections = Counter(number for number, _ in slack.socket.sent)
        assert len(connections) >= 2, f"Slack should have spread envelopes over both: {connections}"
        await settle(cluster, total, FIRST)
    finally:
        await cluster.stop()

    check_storage(cluster, total, threads)
    check_team_side(cluster, total, threads)
