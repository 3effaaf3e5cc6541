"""EmailSettings validation and defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from adapters.email.settings import EmailSettings, MailboxSettings, SmtpSettings


def test_mailbox_defaults_and_since() -> None:
    box = MailboxSettings(inbox="support", host="imap.example.com", username="u", password="p")
    assert (box.port, box.security, box.folder, box.idle, box.idle_renew_seconds) == (
        993,
        "tls",
        "INBOX",
        True,
        540,
    )
    assert box.since_delta() is None
    assert MailboxSettings(
        inbox="s", host="h", username="u", password="p", since="7d"
    ).since_delta() == timedelta(days=7)
    assert MailboxSettings(inbox="s", host="h", username="u", password="p", security="starttls").port == 143


def test_mailbox_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        MailboxSettings(inbox="s", host="h", username="u", password="p", since="last week")
    with pytest.raises(ValidationError):
        MailboxSettings(inbox="s", host="h", username="u")  # no password
    with pytest.raises(ValidationError):
        MailboxSettings(inbox="s", kind="folder")  # no path
    with pytest.raises(ValidationError):
        MailboxSettings(inbox="s", host="h", username="u", password="p", idle_renew_seconds=1800)
    with pytest.raises(ValidationError):
        MailboxSettings.model_validate(
            {"inbox": "s", "host": "h", "username": "u", "password": "p", "surprise": 1}
        )


def test_email_settings_defaults() -> None:
    settings = EmailSettings.model_validate(
        {
            "mailboxes": {"support": {"kind": "folder", "path": "/tmp/spool", "inbox": "support"}},
            "smtp": {"host": "smtp.example.com", "security": "tls"},
        }
    )
    assert settings.max_attachment_bytes == 25 * 1024 * 1024
    assert settings.from_format == "{agent} via {inbox_name}"
    assert settings.smtp is not None and settings.smtp.port == 465
    assert SmtpSettings(host="h").port == 587
    assert "secret" not in repr(SmtpSettings(host="h", password="secret"))
    with pytest.raises(ValidationError):
        EmailSettings(from_format="{who} via {inbox_name}")


def test_reply_all_per_inbox_and_mailboxes_of_one_inbox_must_agree() -> None:
    def box(inbox: str, reply_all: bool) -> MailboxSettings:
        return MailboxSettings(inbox=inbox, kind="folder", path="/tmp/x", reply_all=reply_all)

    settings = EmailSettings(mailboxes={"a": box("support", True), "b": box("sales", False)})
    assert (settings.reply_all_of("support"), settings.reply_all_of("sales")) == (True, False)
    assert settings.reply_all_of("unknown") is True
    with pytest.raises(ValidationError, match=r"mailboxes\.b\.reply_all"):
        EmailSettings(mailboxes={"a": box("support", True), "b": box("support", False)})
