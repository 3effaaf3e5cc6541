"""Two ``threadline run`` processes on one PostgreSQL whose clocks are 60 s apart (+30 s and −30 s,
``THREADLINE_TEST_CLOCK_OFFSET``) still do each job exactly once, on time: one mailbox reader (the
lease never changes hands), each SLA reminder once and not early, each digest period once."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.db import sync_url
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.logs import log_records
from testkit.processes.procs import Instance, customer_mail, until, write_config
from threadline.app import TEST_CLOCK_OFFSET

TAIL = """
[inboxes.support.sla]
first_response = "2m"
warn_before = "1m"

[digests.minutely]
surface = "local"
chat_channel = "digests"
cron = "* * * * *"
inboxes = ["support"]
"""
SKEWS = {"ahead": "30", "behind": "-30"}
PERIOD = re.compile(r"━━ 📊 Minutely digest[^\n]*\n\s*([^\n]+?) → ([^\n]+)")


def _created_at(url: str) -> datetime | None:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            value = db.execute(text("SELECT min(created_at) FROM conversations")).scalar()
    finally:
        engine.dispose()
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _sent_runs(url: str) -> list[tuple[object, object]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT period_start, period_end FROM digest_runs"
                    " WHERE sent_at IS NOT NULL ORDER BY period_end"
                )
            ).all()
    finally:
        engine.dispose()
    return [(start, end) for start, end in rows]


async def test_skewed_clocks_do_each_job_once(
    pg_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    instances = [
        Instance(
            write_config(
                tmp_path / f"{name}.toml", pg_db, imap=dovecot.port, smtp=smtp.port, instance=name, tail=TAIL
            ),
            tmp_path,
            name,
            env={TEST_CLOCK_OFFSET: skew},
        )
        for name, skew in SKEWS.items()
    ]
    seen: dict[str, float] = {}

    def shown() -> str:
        return "".join(instance.stdout() for instance in instances)

    def first_seen(marker: str) -> bool:
        if marker in shown():
            seen.setdefault(marker, time.time())
        return marker in seen

    for instance in instances:
        instance.start()
    try:
        await until(
            lambda: all("threadline started" in i.stderr() for i in instances), 60, "both started", *instances
        )
        dovecot.client().append("INBOX", customer_mail(1, "skew"))
        await until(lambda: _created_at(pg_db) is not None, 60, "the mail stored", *instances)
        await until(lambda: first_seen("due in"), 150, "the SLA warning", *instances)
        await until(lambda: first_seen("target breached"), 90, "the SLA breach notice", *instances)
        await until(lambda: len(PERIOD.findall(shown())) >= 2, 150, "two digest periods", *instances)
    finally:
        for instance in instances:
            instance.terminate()
        for instance in instances:
            await instance.exited()

    created = _created_at(pg_db)
    assert created is not None
    assert abs((created - datetime.now(UTC)).total_seconds()) < 300  # stamped with the database's time
    team_saw = shown()
    assert team_saw.count("Order 1001 question") >= 1
    assert team_saw.count("due in") == 1 and team_saw.count("target breached") == 1
    # neither reminder early by the skewed clock ahead (1.5 s for polling and the 1 s check interval)
    assert seen["due in"] >= (created + timedelta(seconds=60)).timestamp() - 1.5
    assert seen["target breached"] >= (created + timedelta(seconds=120)).timestamp() - 1.5
    periods = PERIOD.findall(team_saw)
    assert len(periods) == len(set(periods)), f"a digest period was posted twice: {periods}"
    runs = _sent_runs(pg_db)
    assert len(runs) == len(periods), f"posted {periods}, recorded {runs}"
    for (_, end), (start, _) in pairwise(runs):
        assert start == end, f"digest periods are not contiguous: {runs}"
    takes = {
        instance.name: sum(
            1
            for e in log_records(instance)
            if e.get("msg") == "lease taken; starting" and e.get("lease") == "mailbox:support"
        )
        for instance in instances
    }
    assert sorted(takes.values()) == [0, 1], f"the mailbox lease changed hands: {takes}"
    assert not [e for i in instances for e in log_records(i) if e.get("msg") == "lease lost; stopping"]
