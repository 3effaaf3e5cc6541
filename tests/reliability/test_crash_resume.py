"""Work resumed after a kill, with real ``threadline run`` processes killed (``os._exit(137)``, what
SIGKILL looks like from outside) at a kill point and restarted.

- Killed while posting a claimed digest run: the restarted instance posts that run, marked late,
  within a minute of the kill, once.
- Killed in the middle of an IMAP catch-up of 1,000 mails: after the restart every mail is stored
  once, also one appended as soon as the restarted instance resumed the catch-up.
- Killed in the middle of an IMAP resync after the folder was rebuilt (new UIDVALIDITY): after the
  restart every customer mail is stored once, in its own conversation, and the mail older than the
  last one stored before the rebuild got no automatic answer (an auto-reply rule answers new mail).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from storage import Store
from storage.db import sync_url
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.state import safe_snapshot, snapshot

DIGEST = """
[digests.hourly]
chat_channel = "digests"
cron = "{minute} * * * *"
timezone = "UTC"
inboxes = ["support"]
"""

AUTO_REPLY = """
[templates.ack]
body = "We got your message and answer soon."

[[rules]]
name = "ack"
applies_to = "new_conversation"
auto_reply = "ack"
"""


def _digest_runs(url: str) -> list[tuple[datetime, datetime | None, bool, datetime]]:
    """(period end, sent at, late, claimed at) of every digest run."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                text("SELECT period_end, sent_at, late, claimed_at FROM digest_runs ORDER BY period_end")
            )
            return [(_utc(r[0]), _utc(r[1]) if r[1] else None, bool(r[2]), _utc(r[3])) for r in rows]
    finally:
        engine.dispose()


def _utc(value: object) -> datetime:
    """A stored UTC moment as read by plain SQL (SQLite gives text, PostgreSQL a datetime)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _posted_before(url: str, end: datetime) -> None:
    """A run of the digest posted earlier (so runs after it count as missed)."""
    store = Store(url)
    try:
        async with store.transaction() as uow:
            run = await uow.schedule.claim_digest_run(
                "hourly", end - timedelta(hours=1), end, end, late=False, stale=timedelta(seconds=40)
            )
            assert run is not None
            await uow.schedule.finish_digest_run(run, end)
    finally:
        await store.close()


async def test_a_digest_claimed_by_a_killed_instance_is_posted_within_a_minute(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    fired = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)  # the missed run
    await _posted_before(process_db, fired - timedelta(hours=1))  # the run before it went out
    config = write_config(
        tmp_path / "g.toml",
        process_db,
        imap=dovecot.port,
        smtp=smtp.port,
        instance="digest-g",
        tail=DIGEST.format(minute=fired.minute),
    )
    instance = Instance(config, tmp_path, "g")
    instance.start("digest_claimed:1")  # the start's catch-up claims the missed run, then dies posting it
    assert await instance.exited(timeout=60) == 137, instance.stderr()[-3000:]
    claimed = [run for run in _digest_runs(process_db) if run[1] is None]
    assert len(claimed) == 1, _digest_runs(process_db)
    instance.start()
    try:
        posted = lambda: all(run[1] is not None for run in _digest_runs(process_db))  # noqa: E731
        await until(posted, 90, "the claimed digest run posted by the restarted instance", instance)
    finally:
        instance.terminate()
    assert await instance.exited(timeout=30) == 0
    runs = _digest_runs(process_db)
    (missed,) = [run for run in runs if run[0] == fired]
    assert claimed[0][0] == fired and missed[2], runs  # posted, marked late
    assert missed[1] is not None and missed[1] - claimed[0][3] <= timedelta(seconds=60), (claimed, missed)
    assert len(runs) == 2  # the one before, and the missed one: posted once
    assert instance.stdout().count("(late: not posted at its time)") == 1, instance.stdout()[-2000:]


async def test_a_kill_mid_catch_up_then_mail_during_the_next_catch_up_each_stored_once(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    backlog = 1000
    client = dovecot.client()
    client.multiappend("INBOX", [customer_mail(n, "cu") for n in range(backlog)])
    config = write_config(
        tmp_path / "c.toml", process_db, imap=dovecot.port, smtp=smtp.port, instance="catch-up-c"
    )
    instance = Instance(config, tmp_path, "c")
    instance.start("after_commit:100")  # the first start reads the 7-day backlog and dies part-way
    assert await instance.exited(timeout=60) == 137, instance.stderr()[-3000:]
    stored_before = len(snapshot(process_db).inbound)
    assert 0 < stored_before < backlog
    instance.start()
    try:
        await until(lambda: len(_inbound(process_db)) > stored_before, 60, "the catch-up resumes", instance)
        client.append("INBOX", customer_mail(backlog, "cu"))  # arrives as the catch-up resumes
        await until(lambda: len(_inbound(process_db)) == backlog + 1, 90, "every mail stored", instance)
        await asyncio.sleep(1)  # nothing comes twice afterwards
    finally:
        instance.terminate()
    assert await instance.exited(timeout=30) == 0
    client.logout()
    state = snapshot(process_db)
    assert sorted(m for m, _ in state.inbound) == sorted(f"<cu-{n}@example.org>" for n in range(backlog + 1))
    assert state.conversations == backlog + 1


def _inbound(url: str) -> list[tuple[str, int]]:
    state = safe_snapshot(url)
    return state.inbound if state is not None else []


def _rebuild_folder(server: Dovecot, mails: list[tuple[bytes, datetime]]) -> None:
    """Recreate INBOX's content in a new folder ``Support`` (new UIDVALIDITY), as a migration would."""
    client = server.client()
    try:
        if client.folder_exists("Support"):
            client.delete_folder("Support")
            time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        client.create_folder("Support")
        for raw, when in mails:
            client.append("Support", raw, msg_time=when)
    finally:
        client.logout()


async def test_a_kill_during_a_uidvalidity_resync_stores_each_mail_once_and_answers_no_old_mail(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old = [(customer_mail(n, "rs"), now - timedelta(hours=5 - n)) for n in range(4)]  # 5 h .. 2 h ago
    new = [(customer_mail(n, "rs"), now) for n in range(4, 7)]
    # only in the rebuilt folder: older than the last mail stored (read, stored, never answered),
    # and far older than that (outside the resync: never read)
    unseen = [
        (customer_mail(7, "rs"), now - timedelta(hours=3)),
        (customer_mail(8, "rs"), now - timedelta(days=30)),
    ]
    tail = AUTO_REPLY
    config = write_config(
        tmp_path / "r.toml", process_db, imap=dovecot.port, smtp=smtp.port, instance="resync-r", tail=tail
    )
    config.write_text(config.read_text().replace('since = "7d"', 'since = "7d"\nfolder = "Support"'))
    instance = Instance(config, tmp_path, "r")
    _rebuild_folder(dovecot, old)
    instance.start()
    try:
        await until(lambda: _settled(process_db, 4, smtp, 4), 60, "the first four mails answered", instance)
    finally:
        instance.terminate()
    assert await instance.exited(timeout=30) == 0
    answered_before = len(smtp.message_ids)

    _rebuild_folder(dovecot, unseen + old + new)  # the same mail under a new UIDVALIDITY, and more
    instance.start("after_commit:2")  # killed in the middle of the resync
    assert await instance.exited(timeout=60) == 137, instance.stderr()[-3000:]
    instance.start()
    try:
        await until(lambda: _settled(process_db, 8, smtp, answered_before + 3), 60, "the resync", instance)
        await asyncio.sleep(1)  # an answer that should not come would be on its way by now
    finally:
        instance.terminate()
    assert await instance.exited(timeout=30) == 0
    state = snapshot(process_db)
    assert sorted(m for m, _ in state.inbound) == sorted(f"<rs-{n}@example.org>" for n in range(8))
    assert state.conversations == 8  # nothing stored before became a second conversation
    # one automatic answer per new conversation; none for mail older than the last one stored before
    assert len(set(smtp.message_ids)) == answered_before + 3


def _settled(url: str, stored: int, smtp: SmtpSink, answers: int) -> bool:
    state = safe_snapshot(url)
    return (
        state is not None
        and len(state.inbound) == stored
        and state.pending_outbox == 0
        and len(set(smtp.message_ids)) >= answers
    )
