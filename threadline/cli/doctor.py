"""``threadline doctor`` (also ``check-config --online``): try every configured credential and permission.

Each surface and channel offers a ``Checkup`` (``bot.ports.doctor``) in its adapter; this module
only picks them from the configuration, runs them one after another and prints one line per check,
with the fix under each failure. Exit 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator

from adapters.discord.doctor import discord_checkup
from adapters.email.doctor import email_checkup
from adapters.email.settings import EmailSettings
from adapters.email.wiring import build_mailbox_tokens
from adapters.slack.doctor import slack_checkup
from adapters.whatsapp.doctor import whatsapp_checkup
from bot.ports.doctor import CheckResult, Checkup
from storage import Store
from threadline.config import AppSettings

__all__ = ["run_doctor"]

log = logging.getLogger(__name__)
_PASS, _FAIL = "✓", "✗"


def _chat_channels(settings: AppSettings, surface: str) -> list[str]:
    """The channels a surface posts to: each inbox's and each digest's."""
    found = [inbox.chat_channel for inbox in settings.inboxes.values() if inbox.surface == surface]
    found += [digest.chat_channel for digest in settings.digests.values() if digest.surface == surface]
    return found


def _checkups(settings: AppSettings, store: Store | None) -> Iterator[tuple[str, Checkup]]:
    surfaces, channels = settings.surfaces, settings.channels
    if (slack := surfaces.slack) is not None:
        yield "slack", lambda: slack_checkup(slack, _chat_channels(settings, "slack"))
    if (discord := surfaces.discord) is not None:
        yield "discord", lambda: discord_checkup(discord, _chat_channels(settings, "discord"))
    if (email := channels.email) is not None:
        yield "email", lambda: _email(email, store)
    if (whatsapp := channels.whatsapp) is not None:
        yield "whatsapp", lambda: whatsapp_checkup(whatsapp)


async def _email(email: EmailSettings, store: Store | None) -> AsyncIterator[CheckResult]:
    try:
        tokens = build_mailbox_tokens(email, store) if store is not None else {}
    except ValueError as exc:  # the key that decrypts stored sign-ins is missing or not a key
        yield CheckResult("email", "stored OAuth2 sign-ins can be read", False, str(exc))
        return
    async for result in email_checkup(email, tokens):
        yield result


async def run_doctor(settings: AppSettings, out: Callable[[str], None] = print) -> int:
    """Run every configured check and print the results; 0 when all passed, 1 otherwise."""
    email = settings.channels.email
    store = Store(settings.threadline.database_url) if email is not None and email.oauth_mailboxes() else None
    failed = total = 0
    try:
        checkups = list(_checkups(settings, store))
        if not checkups:
            out("nothing to check online: no Slack, Discord, email or WhatsApp section is configured")
            return 0
        for name, checkup in checkups:
            where = None
            try:
                async for result in checkup():
                    if result.where != where:
                        where = result.where
                        out(where)
                    total += 1
                    failed += not result.ok
                    out(f"  {_PASS if result.ok else _FAIL} {result.what}")
                    if not result.ok:
                        out(f"      fix: {result.fix}")
            except Exception as exc:  # a check that broke is a failed check, never a traceback
                log.debug("doctor check failed", exc_info=True, extra={"checkup": name})
                total, failed = total + 1, failed + 1
                out(f"  {_FAIL} {name}: the check itself failed ({type(exc).__name__})")
                out('      fix: run again with log_level = "debug" and report it')
    finally:
        if store is not None:
            await store.close()
    out(f"{total - failed} of {total} check(s) passed" + (f"; {failed} to fix" if failed else ""))
    return 1 if failed else 0
