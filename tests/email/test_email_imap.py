"""ImapWorker against a real Dovecot: IDLE, cursor, restart without loss or duplicates, resync, polling."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from adapters.email import imap_backlog
from adapters.email.imap import format_cursor, parse_cursor
from adapters.email.imap_tools import ImapCursor
from testkit.email.dovecot import kill_and_restart_dovecot, start_dovecot, stop_dovecot
from testkit.email.imap_worker import aappend, running


def test_cursor_format() -> None:
    assert parse_cursor(format_cursor(17, 42)) == ImapCursor(17, 42)
    arrived = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert parse_cursor(format_cursor(17, 42, arrived)) == ImapCursor(17, 42, arrived)
    assert parse_cursor(format_cursor(17, 42, None, arrived)) == ImapCursor(17, 42, None, arrived)
    assert parse_cursor(None) is None and parse_cursor("junk") is None


async def test_first_start_skips_old_mail_and_idle_delivers_new(dovecot, recorder, mail) -> None:
    await aappend(dovecot, mail(1))
    async with running(dovecot, recorder) as worker:
        assert parse_cursor(recorder.cursors["imap:support"]) is not None
        await aappend(dovecot, mail(2))
        await recorder.wait_for(1, timeout=5)
        assert worker.last_exists_at is not None
    assert recorder.ids() == ["<msg-2@example.com>"]
    message = recorder.messages[0]
    cursor = parse_cursor(message.cursor.value if message.cursor else None)
    assert message.cursor is not None and message.cursor.key == "imap:support"
    assert cursor is not None and cursor.last_uid == 2
    assert recorder.cursors["imap:support"] == format_cursor(cursor.validity, 2, message.received_at)
    assert message.received_at.tzinfo is not None


async def test_since_backfills_on_first_start(dovecot, recorder, mail) -> None:
    await aappend(dovecot, mail(1), mail(2))
    async with running(dovecot, recorder, since="7d"):
        await recorder.wait_for(2)
    assert recorder.ids() == ["<msg-1@example.com>", "<msg-2@example.com>"]


async def test_a_backlog_says_more_follows_on_all_but_its_last_group(dovecot, recorder, mail) -> None:
    await aappend(dovecot, *[mail(n) for n in range(1, 8)])
    async with running(dovecot, recorder, batch_size=3, since="7d"):
        await recorder.wait_for(7)
        await aappend(dovecot, mail(8))  # new mail while idling is no backlog
        await recorder.wait_for(8)
    assert [m.more_follow for m in recorder.messages] == [True] * 6 + [False, False]


async def test_a_backlog_read_reports_its_progress_and_logs_its_count_and_rate(
    dovecot, recorder, mail, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_backlog, "_LONG_BACKLOG", 7)  # "long" at 7 here, so the warning can be seen
    reports: list[tuple[int, int]] = []
    await aappend(dovecot, *[mail(n) for n in range(1, 8)])
    with caplog.at_level(logging.INFO, logger="adapters.email.imap_backlog"):
        async with running(
            dovecot, recorder, batch_size=3, since="7d", progress=lambda *r: reports.append(r)
        ):
            await recorder.wait_for(7)
            await aappend(dovecot, mail(8))  # one new mail is no backlog: no progress line, no log
            await recorder.wait_for(8)
    assert reports == [(0, 7), (3, 7), (6, 7), (7, 7)]
    records = [r for r in caplog.records if "backlog" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", "imap reading 7 mails from the backlog before new mail"),
        ("INFO", "imap backlog read started"),
        ("INFO", "imap backlog read finished"),
    ]
    finished = vars(records[-1])
    assert finished["messages"] == 7 and finished["per_second"] > 0 and finished["mailbox"] == "support"


async def test_restart_mid_stream_loses_and_duplicates_nothing(dovecot, recorder, mail) -> None:
    async with running(dovecot, recorder):
        recorder.fail_after = 7  # the core "crashes" on the 8th message
        await aappend(dovecot, *[mail(n) for n in range(1, 21)])
        await recorder.wait_for(7)
    assert len(recorder.messages) == 7
    recorder.fail_after = None
    async with running(dovecot, recorder):
        await recorder.wait_for(20)
        await aappend(dovecot, mail(21))
        await recorder.wait_for(21)
    assert recorder.ids() == [f"<msg-{n}@example.com>" for n in range(1, 22)]


async def test_own_mail_is_skipped_but_the_cursor_advances(dovecot, recorder, mail) -> None:
    own = mail(2).replace(b"<msg-2@example.com>", b"<tl.abc@threadline.test>")
    async with running(dovecot, recorder):
        await aappend(dovecot, mail(1), own, mail(3))
        await recorder.wait_for(2)
    assert recorder.ids() == ["<msg-1@example.com>", "<msg-3@example.com>"]
    cursor = parse_cursor(recorder.cursors["imap:support"])
    assert cursor is not None and cursor.last_uid == 3


async def test_uidvalidity_change_without_a_stored_date_resyncs_the_last_day(dovecot, recorder, mail) -> None:
    await aappend(dovecot, mail(1), mail(2))
    recorder.cursors["imap:support"] = "1:999"  # an older cursor, without dates, from another UIDVALIDITY
    async with running(dovecot, recorder):
        await recorder.wait_for(2)
    assert recorder.ids() == ["<msg-1@example.com>", "<msg-2@example.com>"]
    assert not recorder.cursors["imap:support"].startswith("1:")


async def test_polling_fallback(dovecot, recorder, mail) -> None:
    async with running(dovecot, recorder, idle=False) as worker:
        await aappend(dovecot, mail(1))
        await recorder.wait_for(1, timeout=5)
        assert worker.last_exists_at is None  # it came by polling
    assert recorder.ids() == ["<msg-1@example.com>"]


async def test_mark_seen_and_move_to(dovecot, recorder, mail) -> None:
    client = dovecot.client()
    client.create_folder("Done")
    client.logout()
    async with running(dovecot, recorder, mark_seen=True, move_to="Done"):
        await aappend(dovecot, mail(1), mail(2))
        await recorder.wait_for(2)
    client = dovecot.client()
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        client.select_folder("Done")
        flags = client.get_flags(client.search(["ALL"]))
        assert len(flags) == 2 and all(b"\\Seen" in f for f in flags.values())
    finally:
        client.logout()


async def test_reconnects_after_the_server_restarts(recorder, mail) -> None:
    server = start_dovecot()
    try:
        async with running(server, recorder, since="7d") as worker:
            await aappend(server, mail(1))
            await recorder.wait_for(1)
            worker.connected.clear()  # before the kill: the worker may reconnect before the restart returns
            await asyncio.to_thread(kill_and_restart_dovecot, server)
            assert await asyncio.to_thread(worker.connected.wait, 15), "the worker did not reconnect"
            await aappend(server, mail(2))
            await recorder.wait_for(2)
        assert recorder.ids() == ["<msg-1@example.com>", "<msg-2@example.com>"]
    finally:
        stop_dovecot(server)
