"""ImapWorker against a real Dovecot: a folder rebuilt with a new UIDVALIDITY is read again only from
the last stored mail's date, and what arrived before that date is marked so nobody answers it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from adapters.email.imap import parse_cursor
from testkit.email.imap_worker import running
from testkit.email.recorder import Recorder
from testkit.email.sample_mail import make_mail

FOLDER = "Support"
NOW = datetime.now(UTC).replace(microsecond=0)
AGES = {n: timedelta(days=d) for n, d in {1: 30, 2: 30, 3: 3, 6: 3, 4: 2}.items()}  # the rest: now


def fill(server, numbers: list[int], *, recreate: bool) -> int:
    """(Re)create ``FOLDER`` holding mail ``numbers`` with their ``AGES`` as INTERNALDATE; its UIDVALIDITY."""
    client = server.client()
    try:
        if recreate:
            before = client.folder_status(FOLDER, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
            client.delete_folder(FOLDER)
            time.sleep(1.1)  # Dovecot derives a new UIDVALIDITY from the clock
        client.create_folder(FOLDER)
        for n in numbers:
            client.append(FOLDER, make_mail(n), msg_time=NOW - AGES.get(n, timedelta(0)))
        validity = int(client.folder_status(FOLDER, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
        assert not recreate or validity != before
        return validity
    finally:
        client.logout()


async def test_a_rebuilt_folder_is_read_again_from_the_last_stored_date_only(dovecot) -> None:
    recorder = Recorder()
    await asyncio.to_thread(fill, dovecot, [1, 2, 3, 4], recreate=False)
    async with running(dovecot, recorder, folder=FOLDER, since="7d"):
        await recorder.wait_for(2)
    assert recorder.ids() == ["<msg-3@example.com>", "<msg-4@example.com>"]  # first start: 7 days
    assert not any(m.resynced for m in recorder.messages)

    validity = await asyncio.to_thread(fill, dovecot, [1, 2, 3, 4, 5], recreate=True)  # a migration
    async with running(dovecot, recorder, folder=FOLDER, since="7d"):
        await recorder.wait_for(5)
        await asyncio.sleep(0.5)  # nothing older is read after the new mail
    again = recorder.messages[2:]
    assert [m.external_id for m in again] == [f"<msg-{n}@example.com>" for n in (3, 4, 5)]
    assert [m.resynced for m in again] == [True, False, False]  # 3 is older than the last stored mail
    cursor = parse_cursor(recorder.cursors["imap:support"])
    assert cursor is not None and cursor.validity == validity and cursor.resync_before is None


async def test_a_resync_interrupted_by_a_crash_goes_on_marking_old_mail(dovecot) -> None:
    recorder = Recorder()
    await asyncio.to_thread(fill, dovecot, [4], recreate=False)
    async with running(dovecot, recorder, folder=FOLDER, since="7d"):
        await recorder.wait_for(1)
    await asyncio.to_thread(fill, dovecot, [1, 2, 3, 6, 5], recreate=True)
    recorder.fail_after = 2  # the core "crashes" after storing the first resynced mail
    async with running(dovecot, recorder, folder=FOLDER, since="7d"):
        await recorder.wait_for(2)
    cursor = parse_cursor(recorder.cursors["imap:support"])
    assert cursor is not None and cursor.resync_before is not None  # the resync is not over
    recorder.fail_after = None
    async with running(dovecot, recorder, folder=FOLDER, since="7d"):
        await recorder.wait_for(4)
    assert recorder.ids()[1:] == ["<msg-3@example.com>", "<msg-6@example.com>", "<msg-5@example.com>"]
    assert [m.resynced for m in recorder.messages[1:]] == [True, True, False]
