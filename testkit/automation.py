"""Helpers of the automation tests: settings with more agents, a team and templates; the mail sent."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

from testkit.settings import make_settings
from threadline.config import AppSettings

AUTOMATION = """
[agents.carol]
name = "Carol Reyes"
identities = { local = "carol" }

[agents.dan]
name = "Dan Okafor"
identities = { local = "dan" }

[teams.billing]
members = ["alice", "bob", "carol", "dan"]
strategy = "round_robin"

[templates.thanks]
body = "Hi {contact.first_name}, thanks for writing about #{conversation.number}. — {agent.name}"
description = "a friendly acknowledgement"

[templates.ack]
body = "Hi {contact.first_name}, we got your message about \\"{conversation.subject}\\" and reply soon."
"""


def automation_settings(db_url: str, outdir: Path, extra: str = "") -> AppSettings:
    """The test settings plus two more agents, a team, canned replies and ``extra`` TOML."""
    return make_settings(db_url, outdir, AUTOMATION + extra)


def sent_mail(outdir: Path) -> list[EmailMessage]:
    """Mail the email channel wrote to the outgoing folder, oldest first."""
    files = sorted(outdir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def body_of(mail: EmailMessage) -> str:
    """The plain-text body of a mail."""
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
