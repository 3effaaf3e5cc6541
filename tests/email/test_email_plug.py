"""The email channel as a plug: the app starts its mailbox readers like any plug, under their leases on
PostgreSQL, and stops them first (the lease is handed back, nothing more is read)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import text

from storage.migrate import upgrade
from testkit.settings import make_settings
from testkit.waiting import until
from threadline.app import Threadline

MAILBOX_LEASES = text("SELECT name, holder FROM leases WHERE name LIKE 'mailbox:%'")


def _mail(number: int) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"] = "Jane Doe <jane@example.org>", "support@example.com"
    mail["Subject"], mail["Message-ID"] = f"Order {number}", f"<jane-{number}@example.org>"
    mail.set_content(f"Where is order {number}?")
    return bytes(mail)


async def test_the_email_plug_reads_its_mailbox_under_its_lease_and_stops_first(
    db_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    extra = (
        '\n[ops]\ninstance_name = "plug-test"\n'
        f'\n[channels.email.mailboxes.spool]\nkind = "folder"\ninbox = "support"\npath = "{spool}"\n'
        "poll_interval_seconds = 0.1\n"
    )
    await upgrade(db_url)  # PostgreSQL is upgraded by `threadline db upgrade` before a start
    app = Threadline(make_settings(db_url, tmp_path / "out", extra))
    assert app.email is not None and "email" in app.channels  # its reply sender is the email channel
    await app.start()
    stopped = False
    try:
        (spool / "1.eml").write_bytes(_mail(1))
        local = app.local
        assert local is not None
        await until("the mail in a thread", lambda: (t := local.thread(1)) is not None and bool(t.posts))
        assert app.ops.health.components()["mailbox:spool"].ok
        async with app.store.transaction() as uow:
            held = (await uow.session.execute(MAILBOX_LEASES)).all()
        if app.store.is_sqlite:  # one instance by definition: no lease
            assert held == []
        else:
            assert [tuple(row) for row in held] == [("mailbox:spool", "plug-test")]
        await app.stop()
        stopped = True
        (spool / "2.eml").write_bytes(_mail(2))
        await asyncio.sleep(0.5)  # several poll intervals of the reader, had it not stopped
        assert (spool / "2.eml").exists()  # the reader stopped: the file waits for the next start
    finally:
        if not stopped:
            await app.stop()
    again = Threadline(make_settings(db_url, tmp_path / "out", extra))
    try:
        async with again.store.transaction() as uow:
            held = (await uow.session.execute(MAILBOX_LEASES)).all()
        assert held == []  # a clean stop hands every lease back
    finally:
        await again.store.close()
