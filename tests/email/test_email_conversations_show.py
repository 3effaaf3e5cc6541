"""``threadline conversations show`` (text and --json) lists attachments, parse problems and delivery
errors: a mail with bad base64 comes in through a spool folder, the reply bounces, the CLI shows both."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

from testkit.cli import ROOT, run_cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"


def _bounce(bounced_id: str) -> bytes:
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-cli@mx.example.org>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n'
        "\r\n--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; carla@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\r\n"
        f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {bounced_id}\r\n\r\n--r--\r\n"
    ).encode()


def test_show_lists_attachments_parse_problems_and_delivery_errors(tmp_path: Path) -> None:
    spool, sent = tmp_path / "spool", tmp_path / "sent"
    spool.mkdir()
    (spool / "mail.eml").write_bytes((FIXTURES / "28-bad-base64.eml").read_bytes())
    config = tmp_path / "t.toml"
    config.write_text(
        (ROOT / "config.example.toml")
        .read_text()
        .replace("sample_conversations = true", "sample_conversations = false")
        .replace('outgoing_dir = "threadline-data/sent-mail"', f'outgoing_dir = "{sent}"')
        .replace("undo_seconds = 10", "undo_seconds = 0")  # replies leave at once (tests/undo has the window)
        + f'\n[channels.email.mailboxes.spool]\nkind = "folder"\ninbox = "support"\npath = "{spool}"\n'
    )
    assert run_cli(["--config", str(config), "run", "--for", "4"], tmp_path, stdin="").returncode == 0
    run = run_cli(
        ["--config", str(config), "run", "--for", "4"], tmp_path, stdin="#1 !reply Try again now.\n"
    )
    assert run.returncode == 0, run.stderr
    reply = BytesParser(policy=policy.default).parsebytes(next(sent.glob("*.eml")).read_bytes())
    (spool / "bounce.eml").write_bytes(_bounce(str(reply["Message-ID"])))
    assert run_cli(["--config", str(config), "run", "--for", "4"], tmp_path, stdin="").returncode == 0

    shown = run_cli(["--config", str(config), "conversations", "show", "1"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "attachments: report.pdf (application/pdf, 9 bytes)" in shown.stdout
    assert "⚠ malformed: bad base64 in the text, report.pdf" in shown.stdout
    assert "parse problems: defect: InvalidBase64CharactersDefect" in shown.stdout
    assert "delivery error: bounced: carla@example.com: 5.2.2 (552 5.2.2 mailbox full)" in shown.stdout

    data = json.loads(
        run_cli(["--config", str(config), "conversations", "show", "1", "--json"], tmp_path).stdout
    )
    customer, ours = data["messages"][0], next(m for m in data["messages"] if m["kind"] == "outbound")
    assert customer["attachments"] == [
        {
            "filename": "report.pdf",
            "content_type": "application/pdf",
            "size": 9,
            "status": "stored",
            "error": None,
        }
    ]
    assert customer["malformed"] == "bad base64 in the text, report.pdf"
    assert ours["delivery_status"] == "failed" and ours["delivery_error"].startswith("bounced: carla@")
    assert data["number"] == 1 and all(m["kind"] != "inbound" or m["author"] for m in data["messages"])
