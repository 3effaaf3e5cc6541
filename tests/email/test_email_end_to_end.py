"""Email end to end through the app: APPEND to a real Dovecot → thread → !reply → real SMTP server →
the customer's answer (APPENDed) lands in the same conversation; a restart loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

from bot.clock import SystemClock
from storage.repo_conversations import ConversationFilter
from testkit.email.dovecot import Dovecot
from testkit.email.sample_mail import jane_mail
from testkit.email.smtp_app import smtp_app_settings
from testkit.email.smtp_sink import SmtpSink
from testkit.waiting import until
from threadline.app import Threadline


async def test_mail_in_thread_reply_out_and_answer_threaded(
    tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink
) -> None:
    smtp_port = smtp.port
    settings = smtp_app_settings(tmp_path, dovecot, smtp_port)
    app = Threadline(settings, clock=SystemClock())
    await app.start()
    try:
        imap = dovecot.client()
        imap.append("INBOX", jane_mail("<c1@example.org>", "Broken desk", "The leg is cracked.\n\n-- \nJane"))
        local = app.local
        assert local is not None
        await until("the thread", lambda: (thread := local.thread(1)) is not None and bool(thread.posts))
        thread = local.thread(1)
        assert thread is not None
        assert thread.card.subject == "Broken desk" and thread.posts[0].text.strip() == "The leg is cracked."

        await local.type_line("#1 !reply We will send a new leg today.", "alice")
        await until("the reply at the SMTP server", lambda: smtp.received)
        _sender, rcpt, content = smtp.received[0]
        sent = BytesParser(policy=policy.default).parsebytes(content)
        assert rcpt == ["jane@example.org"]
        assert sent["In-Reply-To"] == "<c1@example.org>" and "<c1@example.org>" in sent["References"]
        assert sent["Subject"] == "Re: Broken desk [#1]"
        ours = sent["Message-ID"]

        imap.append(
            "INBOX", jane_mail("<c2@example.org>", "Re: Broken desk [#1]", "Thanks!", in_reply_to=ours)
        )
        await until("the answer in the thread", lambda: "Thanks!" in [p.text.strip() for p in thread.posts])
        async with app.store.transaction() as uow:
            assert await uow.conversations.count_conversations() == 1
        imap.logout()
    finally:
        await app.stop()


async def test_restart_mid_stream_loses_and_duplicates_nothing(
    tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink
) -> None:
    settings = smtp_app_settings(tmp_path, dovecot, smtp.port)
    imap = dovecot.client()
    for n in range(10):
        imap.append("INBOX", jane_mail(f"<m{n}@example.org>", f"Question {n}", f"body {n}"))
    first = Threadline(settings, clock=SystemClock())
    await first.start()

    async def stored() -> int:
        async with first.store.transaction() as uow:
            return await uow.conversations.count_conversations()

    deadline = time.monotonic() + 15
    while await stored() < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await first.stop()  # mid-stream: some of the ten are in, some not
    for n in range(10, 15):
        imap.append("INBOX", jane_mail(f"<m{n}@example.org>", f"Question {n}", f"body {n}"))
    second = Threadline(settings, clock=SystemClock())
    await second.start()
    try:

        async def count() -> int:
            async with second.store.transaction() as uow:
                return await uow.conversations.count_conversations()

        deadline = time.monotonic() + 20
        while await count() < 15 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        async with second.store.transaction() as uow:
            subjects = sorted(
                c.subject for c in await uow.conversations.list_conversations(ConversationFilter(limit=100))
            )
        assert subjects == sorted(f"Question {n}" for n in range(15))
    finally:
        imap.logout()
        await second.stop()
