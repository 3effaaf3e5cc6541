"""Dependency outages with a real ``threadline run`` process: the SMTP server refusing (4xx), Dovecot
killed and restarted, the PostgreSQL server stopped and started. The process keeps running, says so
in chat once (SMTP) and on ``/readyz``, retries with backoff and catches up with nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.email.dovecot import Dovecot, _spawn
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.pgcluster import Cluster
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.replies import reply_to_all
from testkit.processes.state import safe_snapshot, snapshot
from testkit.workers import free_port

WEB = """
[web]
port = {port}
"""


def _readyz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def _component_ok(port: int, name: str) -> bool | None:
    status, body = _readyz(port)
    if not status:
        return None
    components = body.get("components", {})
    assert isinstance(components, dict)
    return bool(components.get(name, {"ok": True})["ok"])


def _stored(url: str, count: int) -> bool:
    state = safe_snapshot(url)
    return state is not None and len(state.inbound) == count and state.pending_outbox == 0


async def test_smtp_and_imap_outages(tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink) -> None:
    from storage.migrate import upgrade

    process_db = f"sqlite:///{tmp_path}/outage.db"  # the SMTP/IMAP paths do not depend on the database
    await upgrade(process_db)
    port = free_port()
    config = write_config(
        tmp_path / "o.toml",
        process_db,
        imap=dovecot.port,
        smtp=smtp.port,
        instance="out",
        ops_extra="serve = true\nmailbox_down_seconds = 1",
        tail=WEB.format(port=port),
    )
    instance = Instance(config, tmp_path, "o")
    imap = dovecot.client()
    for n in range(2):
        imap.append("INBOX", customer_mail(n, "out"))
    imap.logout()
    instance.start()
    try:
        await until(lambda: _stored(process_db, 2) and _readyz(port)[0] == 200, 60, "ready", instance)
        # SMTP refuses with 4xx: retried with backoff, the team told once, readiness red.
        smtp.answer = "451 4.3.0 Try again later"
        await reply_to_all(config, process_db, {1: "First answer", 2: "Second answer"})
        await until(lambda: "is failing" in instance.stdout() and smtp.refused >= 4, 60, "notice", instance)
        await until(lambda: _component_ok(port, "channel:email") is False, 30, "readyz: email down", instance)
        assert instance.alive
        smtp.answer = "250 OK"
        await until(
            lambda: len(smtp.message_ids) == 2 and "works again" in instance.stdout(),
            60,
            "recovery",
            instance,
        )
        await until(lambda: _readyz(port)[0] == 200, 30, "ready again", instance)
        # Dovecot dies: readiness red; restarted: new mail arrives, nothing lost.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dovecot.process.pid, signal.SIGKILL)
        dovecot.process.wait()
        await until(
            lambda: _component_ok(port, "mailbox:support") is False, 30, "readyz shows mailbox down", instance
        )
        await until(
            lambda: "cannot reach the support@example.com mailbox (IMAP)" in instance.stdout(),
            30,
            "mailbox outage notice in the chat channel",
            instance,
        )
        assert instance.alive
        dovecot.process = _spawn(dovecot.directory)
        imap = None
        for _ in range(100):  # Dovecot accepts connections within ~50 ms of a start
            with contextlib.suppress(Exception):
                imap = dovecot.client()
                break
            await asyncio.sleep(0.1)
        assert imap is not None, dovecot.log()
        imap.append("INBOX", customer_mail(2, "out"))
        imap.logout()
        await until(lambda: _stored(process_db, 3), 60, "catch-up after the IMAP outage", instance)
        await until(
            lambda: "mailbox (IMAP) is reachable again" in instance.stdout(), 30, "back notice", instance
        )
    finally:
        instance.terminate()
        await instance.exited()
    shown = instance.stdout()
    assert shown.count("is failing") == 1 and shown.count("works again") == 1
    assert shown.count("cannot reach the support@example.com mailbox") == 1
    assert shown.count("mailbox (IMAP) is reachable again") == 1
    assert len(smtp.message_ids) == len(set(smtp.message_ids)) == 2
    state = snapshot(process_db)
    assert sorted(m for m, _ in state.inbound) == [f"<out-{n}@example.org>" for n in range(3)]
    assert all(status == "sent" for *_, status in state.outbound)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster the test may stop."""
    server = Cluster()
    server.start()
    try:
        yield server
    finally:
        server.remove()


async def test_database_outage(cluster: Cluster, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path) -> None:
    from storage.migrate import upgrade

    await upgrade(cluster.url)
    port = free_port()
    config = write_config(
        tmp_path / "d.toml",
        cluster.url,
        imap=dovecot.port,
        smtp=smtp.port,
        instance="db",
        ops_extra="serve = true",
        tail=WEB.format(port=port),
    )
    instance = Instance(config, tmp_path, "d")
    imap = dovecot.client()
    imap.append("INBOX", customer_mail(0, "db"))
    instance.start()
    try:
        await until(lambda: _stored(cluster.url, 1), 60, "first message", instance)
        cluster.stop()
        for n in (1, 2):
            imap.append("INBOX", customer_mail(n, "db"))
        await until(
            lambda: _component_ok(port, "database") is False, 30, "readyz shows the database down", instance
        )
        await until(  # the mailbox lease (3 s) lapses: readyz names the database, not another instance
            lambda: _component_ok(port, "mailbox:support") is False, 30, "readyz shows the mailbox", instance
        )
        detail = str(_readyz(port)[1]["components"]["mailbox:support"]["detail"])  # type: ignore[index]
        assert "database" in detail and "another instance" not in detail, detail
        await asyncio.sleep(3)  # more rounds of every loop during the outage
        assert instance.alive, "the process must survive a database outage"
        cluster.start()
        await until(lambda: _stored(cluster.url, 3), 90, "catch-up after the database outage", instance)
        assert instance.alive
    finally:
        instance.terminate()
        await instance.exited()
    imap.logout()
    log = instance.stderr()
    assert log.count("database unreachable; retrying with backoff") == 1, log[-3000:]
    assert log.count("database reachable again") == 1 and "Traceback" not in log, log[-3000:]
    assert "works again" not in instance.stdout()  # a database outage is no surface outage
    state = snapshot(cluster.url)
    assert sorted(m for m, _ in state.inbound) == [f"<db-{n}@example.org>" for n in range(3)]
    assert state.conversations == 3 and all(count == 1 for count in state.threads.values())
