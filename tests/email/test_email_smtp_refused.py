"""A refused SMTP sign-in (535) is a refusal, not an outage: told at once with the fix, the reply waits
(never given up), and when a send works again it goes out once and the team is told it is healed.

Real parts: Dovecot brings the customer's mail in, aiosmtpd requires AUTH and answers 535 itself for a
wrong password (RFC 4954 §6: 535 5.7.8 "Authentication credentials invalid").
"""

from __future__ import annotations

from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from adapters.email.settings import SmtpSettings
from bot.clock import SystemClock
from testkit.email.dovecot import Dovecot
from testkit.email.sample_mail import jane_mail
from testkit.email.smtp_sink import SmtpSink
from testkit.settings import make_settings
from testkit.waiting import until
from threadline.app import Threadline


async def test_a_refused_smtp_sign_in_is_told_at_once_the_reply_waits_and_goes_out_once_fixed(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    server: dict[str, bytes] = {"password": b"rotated-by-the-mail-admin"}
    refused: list[bytes] = []

    def authenticator(
        smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == server["password"]
        if not ok:
            refused.append(b"535")
        return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 5.7.8 itself

    sink = SmtpSink().start(authenticator=authenticator, auth_require_tls=False)
    extra = """
[outbox]
backoff_base_seconds = 0.05
backoff_max_seconds = 0.2
max_attempts = 2
[ops]
down_after_failures = 50
"""
    settings = make_settings(
        f"sqlite:///{tmp_path}/t.db", tmp_path / "unused", dovecot.mailbox_toml() + extra
    )
    email = settings.channels.email
    assert email is not None
    smtp = SmtpSettings(
        host="127.0.0.1", port=sink.port, security="none", username="support", password="s3cret"
    )
    email = email.model_copy(update={"outgoing_dir": None, "smtp": smtp})
    settings = settings.model_copy(update={"channels": settings.channels.model_copy(update={"email": email})})
    app = Threadline(settings, clock=SystemClock())
    await app.start()
    try:
        imap = dovecot.client()
        imap.append("INBOX", jane_mail("<c1@example.org>", "Broken desk", "The leg is cracked."))
        imap.logout()
        local = app.local
        assert local is not None
        await until("the thread", lambda: (thread := local.thread(1)) is not None and bool(thread.posts))
        thread = local.thread(1)
        assert thread is not None
        await local.type_line("#1 !reply We will send a new leg today.", "alice")

        def refusal_notices() -> list[str]:
            return [t for t in thread.texts("notice") if "refused the sign-in" in t]

        await until("the refusal told in the thread", lambda: refusal_notices())
        (notice,) = refusal_notices()
        assert "SMTP 535" in notice and "check the SMTP credentials" in notice and "s3cret" not in notice
        assert "Replies wait in the queue" in notice
        await until("more refused sign-ins than max_attempts", lambda: len(refused) > 3)
        assert sink.received == []
        assert len(refusal_notices()) == 1  # told once
        async with app.store.transaction() as uow:  # the reply is not given up
            (reply,) = await uow.messages.messages_of(1, ["outbound"])
            assert reply.delivery_status != "failed"

        server["password"] = b"s3cret"  # the admin fixed it
        await until("the reply at the SMTP server", lambda: len(sink.received) == 1)
        await until("the healed notice", lambda: any("works again" in t for t in thread.texts("notice")))
        assert len(sink.received) == 1
        assert len(refusal_notices()) == 1
    finally:
        await app.stop()
        sink.stop()
