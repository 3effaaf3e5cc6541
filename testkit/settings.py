"""Settings of a test app: the base configuration (a local surface, an email and a WhatsApp inbox)."""

from __future__ import annotations

from pathlib import Path

from threadline.config import AppSettings, parse_config

BASE_CONFIG = """
[threadline]
database_url = "{db}"
log_level = "warning"

[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)
backoff_base_seconds = 1.0
poll_interval_seconds = 0.05

[surfaces.local]
agent = "alice"

[inboxes.support]
name = "Support"
channel = "email"
address = "support@example.com"
surface = "local"
chat_channel = "support"
timezone = "Europe/Amsterdam"

[inboxes.whatsapp]
name = "WhatsApp"
channel = "whatsapp"
address = "+31 20 555 0100"
surface = "local"
chat_channel = "wa"
timezone = "Europe/Amsterdam"
reopen_window = "2d"

[channels.email]
outgoing_dir = "{outdir}"

[agents.alice]
name = "Alice Martin"
identities = {{ local = "alice" }}

[agents.bob]
name = "Bob Stone"
identities = {{ local = "bob" }}

[demo]
whatsapp_outbox_file = "{outdir}/wa.jsonl"
"""


def make_settings(db_url: str, outdir: Path, extra: str = "") -> AppSettings:
    """Test settings on ``db_url`` with email replies written to ``outdir``."""
    return parse_config(BASE_CONFIG.format(db=db_url, outdir=outdir) + extra, env={})
