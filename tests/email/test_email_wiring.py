"""The builders threadline/app.py calls: the right sender and one source per mailbox."""

from __future__ import annotations

from pathlib import Path

from adapters.email import (
    FolderSender,
    FolderSource,
    ImapWorker,
    SmtpSender,
    build_email_sender,
    build_email_sources,
    own_message_id_domains,
)
from adapters.email.settings import EmailSettings


def settings(tmp_path: Path, **extra: object) -> EmailSettings:
    return EmailSettings.model_validate(
        {
            "mailboxes": {
                "support": {"inbox": "support", "host": "imap.example.com", "username": "u", "password": "p"},
                "demo": {"kind": "folder", "inbox": "sales", "path": str(tmp_path)},
            },
            **extra,
        }
    )


def test_sender_choice(tmp_path: Path) -> None:
    assert build_email_sender(settings(tmp_path)) is None
    assert isinstance(build_email_sender(settings(tmp_path, smtp={"host": "smtp.example.com"})), SmtpSender)
    folder = build_email_sender(settings(tmp_path, smtp={"host": "h"}, outgoing_dir=str(tmp_path / "out")))
    assert isinstance(folder, FolderSender) and folder.channel == "email"


def test_sources_and_domains(tmp_path: Path, recorder) -> None:
    s = settings(tmp_path)
    sources = build_email_sources(
        s,
        inbox_addresses={"support": "support@acme.test", "sales": "sales@acme.test", "wa": "+15550001"},
        ingest=recorder.ingest,
        load_cursor=recorder.load_cursor,
        save_cursor=recorder.save_cursor,
    )
    imap, folder = sources
    assert isinstance(imap, ImapWorker) and imap.cursor_key == "imap:support"
    assert isinstance(folder, FolderSource) and folder.cursor_key == "folder:demo"
    assert own_message_id_domains(s, ["support@acme.test", "+1555"]) == {"acme.test"}
    assert own_message_id_domains(settings(tmp_path, message_id_domain="Mail.Acme.Test"), []) == {
        "mail.acme.test"
    }
