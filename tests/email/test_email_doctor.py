"""``threadline doctor`` for email against a real Dovecot and a real aiosmtpd (with and without AUTH)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from adapters.email.doctor import email_checkup
from adapters.email.settings import EmailSettings
from bot.ports.doctor import CheckResult
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.workers import free_port


def _mailbox(server: Dovecot, **changes: object) -> EmailSettings:
    box = {
        "inbox": "support",
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": "support",
        "password": "secret",
        **changes,
    }
    return EmailSettings.model_validate({"mailboxes": {"support": box}})


async def _run(settings: EmailSettings) -> list[CheckResult]:
    return [result async for result in email_checkup(settings, {})]


async def test_a_good_mailbox_connects_signs_in_and_selects_its_folder(dovecot: Dovecot) -> None:
    results = await _run(_mailbox(dovecot))
    assert [(r.where, r.ok) for r in results] == [("mailbox support", True)] * 3
    assert results[1].what == "sign in as support (password)"
    assert results[2].what == "select folder INBOX (0 message(s))"


async def test_a_wrong_password_is_refused_with_the_fix_and_never_shown(dovecot: Dovecot) -> None:
    results = await _run(_mailbox(dovecot, password="hunter2-wrong"))
    assert [r.ok for r in results] == [True, False]
    fix = results[1].fix
    assert "the server refused" in fix and "channels.email.mailboxes.support.password" in fix
    assert "hunter2" not in fix


async def test_an_unknown_folder_lists_the_folders_there_are(dovecot: Dovecot) -> None:
    results = await _run(_mailbox(dovecot, folder="Support"))
    assert [r.ok for r in results] == [True, True, False]
    assert "no folder 'Support'" in results[2].fix and "one of: INBOX" in results[2].fix


async def test_an_unreachable_mail_server_is_a_failed_check() -> None:
    settings = EmailSettings.model_validate(
        {
            "mailboxes": {
                "support": {"inbox": "support", "host": "127.0.0.1", "port": free_port(), "security": "none"}
                | {"username": "support", "password": "x"}
            },
            "smtp": {"host": "127.0.0.1", "port": free_port(), "security": "none"},
        }
    )
    results = await _run(settings)
    assert [(r.where, r.ok) for r in results] == [("mailbox support", False), ("smtp", False)]
    assert all(r.fix.startswith("cannot reach 127.0.0.1:") for r in results)


async def test_a_server_that_never_answers_fails_within_the_check_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("adapters.email.doctor.CHECK_SECONDS", 0.5)
    monkeypatch.setattr("bot.ports.doctor.CHECK_SECONDS", 0.5)
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        settings = EmailSettings.model_validate(
            {"smtp": {"host": "127.0.0.1", "port": port, "security": "none"}}
        )
        results = await _run(settings)
    assert len(results) == 1 and not results[0].ok
    assert results[0].fix.startswith(f"cannot reach 127.0.0.1:{port}: no answer within")


def _authenticator(
    server: object, session: object, envelope: object, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"support", b"smtp-pass")
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


@pytest.fixture
def auth_smtp() -> Iterator[int]:
    """A real aiosmtpd that requires AUTH (support / smtp-pass), on plain loopback."""
    sink = SmtpSink().start(authenticator=_authenticator, auth_require_tls=False)
    try:
        yield sink.port
    finally:
        sink.stop()


async def test_smtp_signs_in_and_sends_nothing(auth_smtp: int) -> None:
    smtp = {"host": "127.0.0.1", "port": auth_smtp, "security": "none", "username": "support"}
    results = await _run(EmailSettings.model_validate({"smtp": smtp | {"password": "smtp-pass"}}))
    assert [(r.what, r.ok) for r in results] == [
        (f"connect to 127.0.0.1:{auth_smtp} (none), EHLO", True),
        ("AUTH as support", True),
    ]


async def test_a_refused_smtp_password_names_the_key(auth_smtp: int) -> None:
    smtp = {"host": "127.0.0.1", "port": auth_smtp, "security": "none", "username": "support"}
    results = await _run(EmailSettings.model_validate({"smtp": smtp | {"password": "nope-123"}}))
    assert [r.ok for r in results] == [True, False]
    assert "535" in results[1].fix and "channels.email.smtp.password" in results[1].fix
    assert "nope-123" not in results[1].fix


async def test_starttls_asked_of_a_server_without_it_is_a_failed_check(auth_smtp: int) -> None:
    smtp = {"host": "127.0.0.1", "port": auth_smtp, "security": "starttls", "username": "support"}
    results = await _run(EmailSettings.model_validate({"smtp": smtp | {"password": "smtp-pass"}}))
    assert [(r.what, r.ok) for r in results][1] == ("STARTTLS", False)
    assert "channels.email.smtp.security" in results[1].fix
