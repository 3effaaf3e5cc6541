"""Sample customer mail as raw RFC 5322 bytes."""

from __future__ import annotations

from email.message import EmailMessage


def make_mail(n: int, *, subject: str = "Hello", domain: str = "example.com", body: str = "") -> bytes:
    """A small customer email with Message-ID ``<msg-n@domain>``."""
    return (
        f"From: Customer {n} <customer{n}@example.com>\r\nTo: support@threadline.test\r\n"
        f"Subject: {subject} {n}\r\nMessage-ID: <msg-{n}@{domain}>\r\n"
        f"Date: Mon, 05 Jan 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body or f'Message number {n}.'}\r\n"
    ).encode()


def jane_mail(message_id: str, subject: str, body: str, in_reply_to: str | None = None) -> bytes:
    """A mail from Jane Doe to support@example.com, answering ``in_reply_to`` when given."""
    mail = EmailMessage()
    mail["From"] = "Jane Doe <jane@example.org>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    mail.set_content(body)
    return bytes(mail)
