"""Real-world-shaped mail through a real Dovecot to the thread, replies through a real SMTP server:
broken mails readable with their problem named, reply-all, bounces in the bounced reply's thread,
and a mail without a sender address answered by a refusal at once."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from adapters.local import LocalSurface
from adapters.local.render import render_post
from adapters.local.surface import LocalThread
from bot.clock import SystemClock
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_app import smtp_app_settings
from testkit.email.smtp_sink import SmtpSink
from testkit.waiting import until
from threadline.app import Threadline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"


def _by_subject(local: LocalSurface, subject: str) -> LocalThread | None:
    return next((t for t in local.threads.values() if t.card.subject == subject and t.posts), None)


async def test_corpus_mails_reach_the_thread_readable(tmp_path: Path, dovecot: Dovecot) -> None:
    app = Threadline(smtp_app_settings(tmp_path, dovecot, 1), clock=SystemClock())
    await app.start()
    imap = dovecot.client()
    try:
        for name in (
            "21-missing-boundary.eml",
            "23-forwarded-inline.eml",
            "26-latin1-with-cp1252.eml",
            "29-huge-long.eml",
            "30-crlf-bcc-name.eml",
            "32-control-chars-subject.eml",
        ):
            imap.append("INBOX", (FIXTURES / name).read_bytes())
        local = app.local
        assert local is not None
        subjects = ["Missing boundary", "Fwd: Your delivery", "Price", "Huge log", "Injection"]
        subjects.append("Invoice URGENT fdp.exe")  # BEL, ESC[31m and U+202E are gone from the card
        await until("six threads", lambda: all(_by_subject(local, s) for s in subjects), timeout=20)

        broken = _by_subject(local, "Missing boundary")
        assert broken is not None
        await until("the malformed notice", lambda: broken.texts("notice"))
        assert broken.texts("inbound") == ["My order 5512 arrived broken, please help."]
        notice = next(p for p in broken.posts if p.kind == "notice")  # as the terminal prints it:
        assert render_post(broken.number, notice, local.zone).endswith(
            "│ ⚠ this mail was malformed: missing multipart boundary; shown as best read"
        )
        assert [a.filename for a in broken.posts[0].attachments] == ["x.bin"]

        forwarded = _by_subject(local, "Fwd: Your delivery")
        assert forwarded is not None
        shown = forwarded.texts("inbound")[0]
        assert "Subject: Your delivery 7731 is delayed" in shown and "arrive next week" in shown
        assert [a.filename for a in forwarded.posts[0].attachments] == ["message-1.eml"]

        price = _by_subject(local, "Price")
        assert price is not None and price.texts("inbound") == ["The price is 80 €, not “cheap”. Straße 5."]

        huge = _by_subject(local, "Huge log")
        assert huge is not None and huge.texts("inbound")[0].endswith("THE LAST LINE")

        injected = _by_subject(local, "Injection")
        assert injected is not None and injected.card.customer_address == "eve@example.com"
        assert "\n" not in injected.card.customer

        controls = _by_subject(local, "Invoice URGENT fdp.exe")
        assert controls is not None and controls.card.customer == "Admin"
    finally:
        imap.logout()
        await app.stop()


def _mail(message_id: str, subject: str, body: str, cc: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Dana <dana@example.org>"
    mail["To"] = "Support <support@example.com>, Bob <bob@example.org>"
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(body)
    return bytes(mail)


def _bounce(bounced_id: str) -> bytes:
    """A DSN as Postfix sends it (RFC 3464): text, delivery-status, the returned headers."""
    return (
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-77@mx.example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; carol@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <carol@example.org>: Recipient address rejected\r\n\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Alice Martin via Support <support@example.com>\r\nMessage-ID: {bounced_id}\r\n"
        "Subject: Re: Seats [#1]\r\n\r\n--r--\r\n"
    ).encode()


async def test_reply_all_bounce_in_its_thread_and_senderless_refused(
    tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink
) -> None:
    smtp_port = smtp.port
    app = Threadline(smtp_app_settings(tmp_path, dovecot, smtp_port), clock=SystemClock())
    await app.start()
    imap = dovecot.client()
    try:
        local = app.local
        assert local is not None
        imap.append(
            "INBOX", _mail("<seats@example.org>", "Seats", "How do we add seats?", "carol@example.org")
        )
        await until("the thread", lambda: (thread := local.thread(1)) is not None and bool(thread.posts))
        await local.type_line("#1 !reply Settings, then Seats.", "alice")
        await until("the reply at the SMTP server", lambda: smtp.received)
        _sender, rcpt, content = smtp.received[0]
        sent = BytesParser(policy=policy.default).parsebytes(content)
        assert rcpt == ["dana@example.org", "bob@example.org", "carol@example.org"]
        assert sent["To"] == "Dana <dana@example.org>"
        assert sent["Cc"] == "bob@example.org, carol@example.org"

        imap.append("INBOX", _bounce(str(sent["Message-ID"])))
        thread = local.thread(1)
        assert thread is not None
        await until("the bounce notice", lambda: any("bounced" in t for t in thread.texts("notice")))
        notice = next(t for t in thread.texts("notice") if "bounced" in t)
        assert "“Settings, then Seats.”" in notice and "carol@example.org: 5.1.1" in notice
        assert "Recipient address rejected" in notice
        assert "Your message could not be delivered." in thread.texts("inbound")  # the bounce itself
        async with app.store.transaction() as uow:
            assert await uow.conversations.count_conversations() == 1

        imap.append("INBOX", (FIXTURES / "31-no-sender.eml").read_bytes())
        await until(
            "the sender-less thread", lambda: (thread := local.thread(2)) is not None and bool(thread.posts)
        )
        nobody = local.thread(2)
        assert nobody is not None and nobody.card.customer == "(no sender address)"
        await until("the malformed notice", lambda: nobody.texts("notice"))
        assert nobody.texts("notice") == ["this mail was malformed: no sender address; shown as best read"]
        refused = await local.type_line("#2 !reply Who are you?", "alice")
        assert (
            not refused.ok
            and "without a sender address" in refused.text
            and "Nothing was sent" in refused.text
        )
    finally:
        imap.logout()
        await app.stop()
