"""Settings of the email channel: IMAP (or spool folder) mailboxes in, SMTP (or an outgoing folder) out.

Secrets arrive already interpolated from ``${ENV}`` references by the configuration
loader; these models only validate shapes and fill defaults.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.email.oauth_settings import OAuthSettings
from bot.ports.channels import ChannelRules

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "RULES",
    "AuthMethod",
    "EmailSettings",
    "MailboxSettings",
    "Security",
    "SmtpSettings",
    "rules",
]

RULES = ChannelRules(
    name="email",
    label="Email (SMTP)",
    address_kind="email",
    address_form="lowercase",
    files_limited_together=True,  # one message carries them all
)
"""What the core needs to know of email (``Settings.channel_rules``): no reply window, no templates."""


def rules(settings: EmailSettings) -> ChannelRules:
    """Email's rules with the section's ``max_attachment_bytes`` as its file limit."""
    return _rules_with_limit(settings.max_attachment_bytes)


@cache
def _rules_with_limit(max_attachment_bytes: int) -> ChannelRules:
    # built once: the core asks for a channel's rules several times per message it files
    return dataclasses.replace(RULES, file_limits=(("", max_attachment_bytes),))


DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
"""Attachments above this size are recorded (name, type, size) but their content is dropped."""

Security = Literal["tls", "starttls", "none"]
"""Transport security: implicit TLS, STARTTLS upgrade, or plain text (loopback/tests only)."""

AuthMethod = Literal["password", "oauth2"]
"""How a mailbox (or SMTP) signs in: a password (or app password), or an OAuth2 access token."""

_SINCE = re.compile(r"^(none|(\d+)([dhw]))$")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


class MailboxSettings(BaseModel):
    """One mailbox that feeds a Threadline inbox: an IMAP folder, or a local spool directory of .eml files."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["imap", "folder"] = Field(
        default="imap", description="'imap' (a server folder) or 'folder' (a spool dir)."
    )
    inbox: str = Field(min_length=1, description="Name of the Threadline inbox this mailbox feeds.")
    host: str | None = Field(default=None, description="IMAP server host name (kind=imap).")
    port: int = Field(
        default=993, ge=1, le=65535, description="IMAP port; 993 for tls, 143 when security is not tls."
    )
    security: Security = Field(default="tls", description="'tls' (implicit), 'starttls' or 'none'.")
    username: str | None = Field(
        default=None, description="IMAP login name (kind=imap); with oauth2 the mailbox address."
    )
    auth: AuthMethod = Field(
        default="password", description="'password' (or app password) or 'oauth2' (see the oauth table)."
    )
    password: str | None = Field(
        default=None, repr=False, description="IMAP password; already resolved from ${ENV}."
    )
    oauth: OAuthSettings | None = Field(
        default=None, description="How the OAuth2 tokens of this mailbox are obtained (auth = 'oauth2')."
    )
    folder: str = Field(default="INBOX", description="IMAP folder to watch.")
    path: str | None = Field(
        default=None,
        description="Spool directory of .eml files (kind=folder); done files go to path/processed.",
    )
    idle: bool = Field(
        default=True, description="Use IMAP IDLE push when the server supports it; otherwise poll."
    )
    idle_renew_seconds: int = Field(
        default=540,
        ge=30,
        lt=29 * 60,
        description="Restart IDLE this often; must stay well under the 29-minute server timeout.",
    )
    poll_interval_seconds: float = Field(
        default=60, gt=0, description="Polling interval when IDLE is off or unsupported."
    )
    rescan_seconds: float = Field(
        default=120,
        gt=0,
        description="Leave IDLE and search the folder at least this often: bounds any mail a server "
        "never announced.",
    )
    mark_seen: bool = Field(default=False, description="Set \\Seen on a message once it has been ingested.")
    move_to: str | None = Field(
        default=None, description="Move a message to this folder once it has been ingested."
    )
    since: str = Field(
        default="none",
        description="Backfill on first start: 'none' (only new mail) or an age such as '7d', '12h', '2w'.",
    )
    timeout_seconds: float = Field(default=30, gt=0, description="Network timeout for IMAP commands.")
    reply_all: bool = Field(
        default=True,
        description="Replies in this mailbox's inbox copy the customer's other To/Cc addresses (not ours).",
    )

    @model_validator(mode="after")
    def _check(self) -> MailboxSettings:
        """Require what each kind needs, validate ``since``, pick the default port for the security mode."""
        if not _SINCE.match(self.since.strip().lower()):
            raise ValueError(f"since must be 'none' or like '7d', '12h', '2w', not {self.since!r}")
        if self.kind == "imap":
            needed = ("host", "username", "password") if self.auth == "password" else ("host", "username")
            missing = [name for name in needed if not getattr(self, name)]
            if missing:
                raise ValueError(f"an imap mailbox needs {', '.join(missing)}")
            if self.auth == "oauth2" and self.oauth is None:
                raise ValueError(
                    'auth = "oauth2" needs an oauth table: add [channels.email.mailboxes.<name>.oauth] '
                    'with provider = "microsoft" | "google" | "generic"'
                )
            if self.auth == "password" and self.oauth is not None:
                raise ValueError('an oauth table is set but auth is "password": set auth = "oauth2"')
            if "port" not in self.model_fields_set and self.security != "tls":
                self.port = 143
        elif not self.path:
            raise ValueError("a folder mailbox needs path")
        return self

    def since_delta(self) -> timedelta | None:
        """The backfill window as a timedelta, or None for 'none'."""
        match = _SINCE.match(self.since.strip().lower())
        if match is None or match.group(1) == "none":
            return None
        return timedelta(seconds=int(match.group(2)) * _UNIT_SECONDS[match.group(3)])


class SmtpSettings(BaseModel):
    """The SMTP server replies are sent through."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, description="SMTP server host name.")
    port: int = Field(
        default=587, ge=1, le=65535, description="SMTP port; 587 for starttls, 465 for tls, 25 for none."
    )
    security: Security = Field(
        default="starttls", description="'tls' (implicit, port 465), 'starttls' or 'none'."
    )
    username: str | None = Field(
        default=None, description="SMTP login name; no AUTH when empty (auth = 'password')."
    )
    auth: AuthMethod = Field(
        default="password",
        description="'password', or 'oauth2': each reply signs in with the token of its inbox's mailbox.",
    )
    password: str | None = Field(
        default=None, repr=False, description="SMTP password; already resolved from ${ENV}."
    )
    timeout: float = Field(
        default=30, gt=0, description="Seconds before a connection or command counts as failed."
    )

    @model_validator(mode="after")
    def _default_port(self) -> SmtpSettings:
        """Pick the conventional port for the security mode when none was given."""
        if "port" not in self.model_fields_set:
            self.port = {"tls": 465, "starttls": 587, "none": 25}[self.security]
        return self


class EmailSettings(BaseModel):
    """The email channel: mailboxes to read, and how replies leave (SMTP or an outgoing folder)."""

    model_config = ConfigDict(extra="forbid")

    mailboxes: dict[str, MailboxSettings] = Field(
        default_factory=dict, description="Mailboxes by name; the name keys the sync cursor ('imap:<name>')."
    )
    smtp: SmtpSettings | None = Field(default=None, description="SMTP server for replies.")
    outgoing_dir: str | None = Field(
        default=None,
        description="Write replies as .eml files here instead of sending them (the no-credentials demo).",
    )
    max_attachment_bytes: int = Field(
        default=DEFAULT_MAX_ATTACHMENT_BYTES,
        ge=0,
        description="Larger attachments keep name, type and size only.",
    )
    from_format: str = Field(
        default="{agent} via {inbox_name}",
        description="Display name of replies; placeholders {agent} and {inbox_name}.",
    )
    message_id_domain: str | None = Field(
        default=None, description="Domain of our Message-IDs; default: the domain of the inbox address."
    )
    own_addresses: list[str] = Field(
        default_factory=list,
        description="Our other addresses (aliases) a reply-all never copies, besides the inbox addresses.",
    )

    @model_validator(mode="after")
    def _check(self) -> EmailSettings:
        """Reject a from_format with unknown placeholders, mailboxes of one inbox that disagree on
        reply_all, and SMTP oauth2 without an oauth2 mailbox."""
        try:
            self.from_format.format(agent="a", inbox_name="b")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"from_format: unknown placeholder or bad format ({exc})") from exc
        for name, mailbox in self.mailboxes.items():
            if self.reply_all_of(mailbox.inbox) != mailbox.reply_all:
                raise ValueError(
                    f"mailboxes.{name}.reply_all: the mailboxes of inbox {mailbox.inbox!r} disagree;"
                    " set the same reply_all on each"
                )
        if self.smtp is not None and self.smtp.auth == "oauth2" and not self.oauth_mailboxes():
            raise ValueError(
                'smtp.auth = "oauth2" signs in with a mailbox\'s token, but no mailbox has auth = "oauth2"'
            )
        return self

    def reply_all_of(self, inbox: str) -> bool:
        """Whether replies in ``inbox`` copy the customer's other recipients (its first mailbox decides)."""
        return next((m.reply_all for m in self.mailboxes.values() if m.inbox == inbox), True)

    def oauth_mailboxes(self) -> dict[str, MailboxSettings]:
        """The mailboxes that sign in with OAuth2, by name."""
        return {name: box for name, box in self.mailboxes.items() if box.auth == "oauth2"}
