"""ImapWorker against a real Dovecot: no mail is missed when it arrives while the worker is busy."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from adapters.email import imap
from adapters.email.imap import format_cursor
from bot.inbound import InboundMessage, IngestResult
from tests.email.email_servers import Recorder
from tests.email.test_email_imap import aappend, append, running

pytestmark = pytest.mark.dovecot

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
