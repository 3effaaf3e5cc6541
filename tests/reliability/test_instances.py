"""Several ``threadline run`` processes on one PostgreSQL share the work: the mailbox is read by one
instance at a time (lease; takeover after the holder is SIGKILLed), every outbox row is delivered by
exactly one instance (``FOR UPDATE SKIP LOCKED``), nothing is shown or sent twice."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.db import sync_url
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.logs import log_records
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.replies import reply_to_all
from testkit.processes.state import safe_snapshot, snapshot


def _holder(url: str, lease: str = "mailbox:support") -> str | None:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            row = db.execute(text("SELECT holder FROM leases WHERE name = :name"), {"name": lease}).first()
    finally:
        engine.dispose()
    return str(row[0]) if row else None


async def test_two_instances_share_the_work_and_take_over(
    pg_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    instances = {
        name: Instance(
            write_config(tmp_path / f"{name}.toml", pg_db, imap=dovecot.port, smtp=smtp.port, instance=name),
            tmp_path,
            name,
        )
        for name in ("east", "west")
    }
    imap = dovecot.client()
    ids: list[str] = []
    for instance in instances.values():
        instance.start()
    try:
        for n in range(10):
            imap.append("INBOX", customer_mail(n, "multi"))
            ids.append(f"<multi-{n}@example.org>")

        def stored(count: int) -> bool:
            state = safe_snapshot(pg_db)
            return state is not None and len(state.inbound) >= count and state.pending_outbox == 0

        await until(lambda: stored(len(ids)), 60, "ingest by the mailbox holder", *instances.values())
        await reply_to_all(instances["east"].config, pg_db, {n: f"Answer to {n}" for n in range(1, 11)})
        await until(
            lambda: len(smtp.message_ids) >= 10 and stored(len(ids)), 60, "replies sent", *instances.values()
        )

        holder = _holder(pg_db)
        assert holder in instances
        assert _holder(pg_db, "sla-check") in instances  # the SLA check runs in one named instance
        readers = [
            name
            for name, inst in instances.items()
            if any(e.get("msg") == "lease taken; starting" for e in log_records(inst))
        ]
        assert readers == [holder], "exactly one instance may have read the mailbox"
        survivor = next(name for name in instances if name != holder)
        dead = instances[holder]
        assert dead.process is not None
        dead.process.send_signal(signal.SIGKILL)
        await dead.exited()
        for n in range(10, 14):
            imap.append("INBOX", customer_mail(n, "multi"))
            ids.append(f"<multi-{n}@example.org>")
        await until(lambda: stored(len(ids)), 60, "takeover by the other instance", *instances.values())
        assert _holder(pg_db) == survivor
    finally:
        for instance in instances.values():
            instance.terminate()
        for instance in instances.values():
            await instance.exited()

    state = snapshot(pg_db)
    assert sorted(m for m, _ in state.inbound) == sorted(ids)
    assert len(smtp.message_ids) == len(set(smtp.message_ids)) == 10  # no reply sent twice
    delivered = Counter(
        event["outbox_id"]
        for inst in instances.values()
        for event in log_records(inst)
        if event.get("msg") == "delivered"
    )
    assert delivered and max(delivered.values()) == 1, "an outbox row was delivered by two instances"
    by_instance = {
        name: sum(1 for e in log_records(inst) if e.get("msg") == "delivered")
        for name, inst in instances.items()
    }
    assert all(by_instance.values()), f"both instances should deliver: {by_instance}"
    shown = instances["east"].stdout() + instances["west"].stdout()
    for n in range(len(ids)):
        assert shown.count(f"Body of message multi-{n}:") == 1
    imap.logout()
