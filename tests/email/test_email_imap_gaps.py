"""ImapWorker against a real Dovecot: no mail is missed when it arrives while the worker is busy, and a
database outage under the core is one log line, not a traceback per retry."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from adapters.email import imap
from adapters.email.imap import format_cursor
from bot.ports.inbound import InboundMessage, IngestResult
from storage.db import DatabaseUnavailable
from testkit.email.imap_worker import aappend, append, running
from testkit.email.recorder import Recorder

ARRIVAL_LIMIT = 5.0  # seconds from APPEND to stored


class HookedRecorder(Recorder):
    """A recorder that runs ``hook(message)`` before storing each message (in the worker's ingest call)."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: object = None
        self.stored_at: dict[str, float] = {}

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Run the hook, then store the message as ``Recorder`` does, noting when it was stored."""
        if callable(self.hook):
            await self.hook(message)
        result = await super().ingest(message)
        self.stored_at[message.external_id] = time.monotonic()
        return result


def validity_of(server, folder: str = "INBOX") -> int:
    client = server.client()
    try:
        return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    finally:
        client.logout()


def multiappend(server, raws: list[bytes]) -> None:
    client = server.client()
    try:
        client.multiappend("INBOX", raws)
    finally:
        client.logout()


async def test_mail_appended_during_a_1000_mail_catch_up_is_stored_within_5_s(dovecot, mail) -> None:
    recorder = HookedRecorder()
    await asyncio.to_thread(multiappend, dovecot, [mail(n) for n in range(1, 1001)])
    recorder.cursors["imap:support"] = format_cursor(await asyncio.to_thread(validity_of, dovecot), 0)
    appended_at: list[float] = []
    half_way = asyncio.Event()

    async def append_once_half_way(message: InboundMessage) -> None:
        if len(recorder.messages) >= 500 and not half_way.is_set():
            half_way.set()  # the worker hands in a batch at once: only the first of them appends
            await aappend(dovecot, mail(5000, subject="During catch-up"))
            appended_at.append(time.monotonic())

    recorder.hook = append_once_half_way
    async with running(dovecot, recorder):
        await recorder.wait_for(1000, timeout=60)
        await recorder.wait_for(1001, timeout=ARRIVAL_LIMIT + 1)
    late = "<msg-5000@example.com>"
    assert recorder.ids().count(late) == 1 and len(recorder.messages) == 1001
    assert recorder.stored_at[late] - appended_at[0] <= ARRIVAL_LIMIT


async def test_small_mails_after_a_large_one_are_stored_within_5_s(dovecot, mail) -> None:
    recorder = HookedRecorder()
    large = mail(1, body=("y" * 76 + "\r\n") * (12 * 1024 * 1024 // 78))  # about 12 MB
    appended_at: list[float] = []

    async def append_small_ones_while_the_large_one_is_stored(message: InboundMessage) -> None:
        if message.external_id == "<msg-1@example.com>":
            await asyncio.to_thread(append, dovecot, mail(2), mail(3), mail(4))
            appended_at.append(time.monotonic())

    recorder.hook = append_small_ones_while_the_large_one_is_stored
    async with running(dovecot, recorder):
        await aappend(dovecot, large)
        await recorder.wait_for(1, timeout=30)
        await recorder.wait_for(4, timeout=ARRIVAL_LIMIT + 1)
    assert recorder.ids() == [f"<msg-{n}@example.com>" for n in range(1, 5)]
    assert max(recorder.stored_at.values()) - appended_at[0] <= ARRIVAL_LIMIT


async def test_a_periodic_rescan_finds_mail_no_idle_notice_announced(dovecot, mail, monkeypatch) -> None:
    """A server whose IDLE never announces new mail still gets read, every ``rescan_seconds``."""

    def deaf_idle(client: object, stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)

    monkeypatch.setattr(imap, "idle_until_exists", deaf_idle)
    recorder = HookedRecorder()
    async with running(dovecot, recorder, rescan_seconds=2):
        await aappend(dovecot, mail(1))
        await recorder.wait_for(1, timeout=ARRIVAL_LIMIT)
    assert recorder.ids() == ["<msg-1@example.com>"]


async def test_a_database_outage_under_the_core_is_one_line_and_nothing_is_lost(
    dovecot, mail, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = HookedRecorder()
    outage = {"left": 3}

    async def database_away(message: InboundMessage) -> None:
        if outage["left"] > 0:
            outage["left"] -= 1
            raise DatabaseUnavailable("cannot reach the database in threadline.database_url (test)")

    recorder.hook = database_away
    with caplog.at_level(logging.INFO):
        async with running(dovecot, recorder):
            await aappend(dovecot, mail(1), mail(2))
            await until_stored(recorder, {"<msg-1@example.com>", "<msg-2@example.com>"})
    # mail 2 may have been stored while mail 1 failed: both are read again from mail 1 on, and the
    # core drops the repeat of mail 2 by its Message-ID (this recorder keeps it)
    assert recorder.ids()[-2:] == ["<msg-1@example.com>", "<msg-2@example.com>"]
    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.email.imap"]
    assert lines.count("imap paused: the database does not answer; retrying with backoff") == 1, lines
    assert not any(r.exc_info for r in caplog.records), lines


async def until_stored(recorder: Recorder, ids: set[str]) -> None:
    """Wait until every external id in ``ids`` was handed to the recorder (at most ``ARRIVAL_LIMIT``)."""
    deadline = time.monotonic() + ARRIVAL_LIMIT
    while not ids <= set(recorder.ids()):
        assert time.monotonic() < deadline, f"stored: {recorder.ids()}"
        await asyncio.sleep(0.05)
