"""Settings of an app reading a real Dovecot and sending by SMTP (not to the outgoing folder)."""

from __future__ import annotations

from pathlib import Path

from adapters.email.settings import SmtpSettings
from testkit.email.dovecot import Dovecot
from testkit.settings import make_settings
from threadline.config import AppSettings

__all__ = ["smtp_app_settings"]


def smtp_app_settings(tmp_path: Path, dovecot: Dovecot, smtp_port: int) -> AppSettings:
    settings = make_settings(f"sqlite:///{tmp_path}/e2e.db", tmp_path / "unused", dovecot.mailbox_toml())
    email = settings.channels.email
    assert email is not None
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_port, security="none")
    email = email.model_copy(update={"outgoing_dir": None, "smtp": smtp})
    return settings.model_copy(update={"channels": settings.channels.model_copy(update={"email": email})})
