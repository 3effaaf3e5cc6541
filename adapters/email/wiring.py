"""Build the email channel's parts from ``EmailSettings``: the reply sender and one source per mailbox.

The email plug (``threadline/email_plug.py``) calls ``build_mailbox_tokens`` (OAuth2 mailboxes),
``build_email_sender`` and ``build_email_sources`` and runs each source's ``run()`` under its lease
(``stop()`` on shutdown); it never touches IMAP or SMTP itself.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial

from adapters.email.classify import is_own_message
from adapters.email.compose import ReplyComposer
from adapters.email.folder import FolderSender, FolderSource
from adapters.email.imap import ImapWorker
from adapters.email.mime import parse_email
from adapters.email.oauth_settings import SECRET_KEY_ENV
from adapters.email.oauth_tokens import MailboxTokens
from adapters.email.settings import EmailSettings
from adapters.email.smtp import SmtpSender
from bot.clock import Clock, SystemClock
from bot.ports.inbound import InboundMessage, IngestResult
from bot.ports.progress import ProgressCallback
from storage import Store
from storage.oauth_tokens import TokenVault

__all__ = [
    "EmailSource",
    "build_email_sender",
    "build_email_sources",
    "build_mailbox_tokens",
    "own_message_id_domains",
]

EmailSource = ImapWorker | FolderSource
"""A running mailbox reader: both kinds offer ``async run()`` and ``async stop()``."""


def own_message_id_domains(settings: EmailSettings, inbox_addresses: Iterable[str]) -> set[str]:
    """Domains our Message-IDs use: the configured one, else the domains of the inbox addresses."""
    if settings.message_id_domain:
        return {settings.message_id_domain.lower()}
    return {address.rpartition("@")[2].lower() for address in inbox_addresses if "@" in address}


def build_mailbox_tokens(
    settings: EmailSettings,
    store: Store,
    *,
    env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> dict[str, MailboxTokens]:
    """The access tokens of every mailbox with ``auth = "oauth2"``, by mailbox name; stored sign-ins
    are decrypted with the key in THREADLINE_SECRET_KEY (``env``, default the process environment)."""
    mailboxes = settings.oauth_mailboxes()
    if not mailboxes:
        return {}
    vault = TokenVault.from_env(store, os.environ if env is None else env, SECRET_KEY_ENV)
    return {name: MailboxTokens(name, box, vault, clock=clock) for name, box in mailboxes.items()}


def build_email_sender(
    settings: EmailSettings,
    *,
    inbox_names: Mapping[str, str] | None = None,
    inbox_addresses: Iterable[str] = (),
    reply_to: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    tokens: Mapping[str, MailboxTokens] | None = None,
) -> SmtpSender | FolderSender | None:
    """The ``ChannelSender`` for email: the outgoing folder if set, else SMTP, else None (inbound only).

    ``inbox_names`` maps inbox keys to the display name shown in From ("Ann via <name>");
    ``inbox_addresses`` (with ``own_addresses``) are never copied into a reply-all.
    ``tokens`` (from ``build_mailbox_tokens``) lets SMTP sign in as each inbox's mailbox.
    """
    own = {a.strip().lower() for a in [*inbox_addresses, *settings.own_addresses] if "@" in a}
    composer = ReplyComposer(
        message_id_domain=settings.message_id_domain,
        from_format=settings.from_format,
        inbox_names=dict(inbox_names or {}),
        reply_to=dict(reply_to or {}),
        reply_all={m.inbox: settings.reply_all_of(m.inbox) for m in settings.mailboxes.values()},
        own_addresses=frozenset(own),
        clock=clock or SystemClock(),
    )
    if settings.outgoing_dir:
        return FolderSender(settings.outgoing_dir, composer, clock)
    if settings.smtp is not None:
        by_inbox = {settings.mailboxes[name].inbox: found for name, found in (tokens or {}).items()}
        return SmtpSender(settings.smtp, composer, tokens=by_inbox)
    return None


def build_email_sources(
    settings: EmailSettings,
    *,
    inbox_addresses: Mapping[str, str],
    ingest: Callable[[InboundMessage], Awaitable[IngestResult]],
    load_cursor: Callable[[str], Awaitable[str | None]],
    save_cursor: Callable[[str, str], Awaitable[None]],
    clock: Clock | None = None,
    tokens: Mapping[str, MailboxTokens] | None = None,
    progress: Callable[[str], ProgressCallback] | None = None,
) -> list[EmailSource]:
    """One reader per configured mailbox. ``inbox_addresses`` maps inbox keys to their email addresses;
    ``tokens`` (from ``build_mailbox_tokens``) signs the OAuth2 mailboxes in; ``progress(label)`` gives
    the callback an IMAP mailbox tells how far its backlog read is (labelled ``mailbox NAME``)."""
    clock = clock or SystemClock()
    domains = own_message_id_domains(settings, inbox_addresses.values())
    is_own = partial(is_own_message, own_message_id_domains=domains)
    sources: list[EmailSource] = []
    for name, mailbox in settings.mailboxes.items():
        parse = partial(
            parse_email,
            inbox=mailbox.inbox,
            own_message_id_domains=domains,
            max_attachment_bytes=settings.max_attachment_bytes,
        )
        if mailbox.kind == "folder":
            sources.append(
                FolderSource(
                    mailbox.path or "",
                    name,
                    ingest=ingest,
                    parse=parse,
                    is_own=is_own,
                    clock=clock,
                    poll_interval=min(mailbox.poll_interval_seconds, 5.0),
                )
            )
        else:
            sources.append(
                ImapWorker(
                    mailbox,
                    name,
                    ingest,
                    load_cursor,
                    parse,
                    clock,
                    save_cursor=save_cursor,
                    is_own=is_own,
                    tokens=(tokens or {}).get(name),
                    progress=progress(f"mailbox {name}") if progress is not None else None,
                )
            )
    return sources
