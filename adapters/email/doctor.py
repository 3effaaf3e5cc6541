"""``threadline doctor`` for email: each IMAP mailbox (connect, sign in, SELECT its folder) and SMTP
(connect, EHLO, STARTTLS or TLS, AUTH; no mail is sent).

Sign-in reuses the reader's code (``imap_login.sign_in``, ``smtp_oauth.sign_in_with_token``), so a
check passes exactly when the running channel would get in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import aiosmtplib
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from adapters.email.imap_login import AuthRefused, sign_in
from adapters.email.imap_tools import close_quietly
from adapters.email.oauth_tokens import CredentialsRefused, MailboxTokens, SignInExpired, TokenServiceError
from adapters.email.settings import EmailSettings, MailboxSettings, SmtpSettings
from adapters.email.smtp_oauth import sign_in_with_token
from bot.ports.doctor import CHECK_SECONDS, CheckResult, Unreachable, reach

__all__ = ["email_checkup"]

_TOKEN_ERRORS = (SignInExpired, CredentialsRefused, TokenServiceError)


async def email_checkup(
    settings: EmailSettings, tokens: Mapping[str, MailboxTokens]
) -> AsyncIterator[CheckResult]:
    """Check every IMAP mailbox, then SMTP; ``tokens`` signs the OAuth2 mailboxes in, by mailbox name."""
    for name, box in settings.mailboxes.items():
        if box.kind == "imap":
            async for result in _mailbox(name, box, tokens.get(name)):
                yield result
    if settings.smtp is not None:
        by_inbox = {settings.mailboxes[name].inbox: found for name, found in tokens.items()}
        async for result in _smtp(settings.smtp, next(iter(by_inbox.values()), None)):
            yield result


async def _mailbox(
    name: str, box: MailboxSettings, tokens: MailboxTokens | None
) -> AsyncIterator[CheckResult]:
    where = f"mailbox {name}"
    key = f"channels.email.mailboxes.{name}"
    host = f"{box.host}:{box.port}"
    access: str | None = None
    if box.auth == "oauth2":
        if tokens is None:
            yield CheckResult(where, "OAuth2 access token", False, f"run threadline auth email {name}")
            return
        try:
            access = await reach(tokens.access_token(), "the identity provider")
        except (Unreachable, *_TOKEN_ERRORS) as exc:
            yield CheckResult(where, "OAuth2 access token", False, str(exc))
            return
        yield CheckResult(where, "OAuth2 access token obtained", True)
    try:
        client = await reach(asyncio.to_thread(_connect, box), host)
    except Unreachable as exc:
        yield CheckResult(
            where, f"connect to {host} ({box.security})", False, f"{exc}; check {key}.host/port"
        )
        return
    except (IMAPClientError, OSError) as exc:  # TLS refused, or STARTTLS not offered
        fix = f"the server refused {box.security}: {exc}; check {key}.security and port"
        yield CheckResult(where, f"connect to {host} ({box.security})", False, fix)
        return
    try:
        yield CheckResult(where, f"connect to {host} ({box.security})", True)
        login = f"sign in as {box.username} ({box.auth})"
        try:
            await reach(
                asyncio.to_thread(sign_in, client, box, None if access is None else lambda _: access), host
            )
        except AuthRefused as exc:
            fix = (
                f"the server refused: {exc}; check {key}.username and the password "
                f"variable {key}.password reads"
                if box.auth == "password"
                else f"the server refused the token: {exc}; check the app's mail permissions and IMAP access"
            )
            yield CheckResult(where, login, False, fix)
            return
        except (Unreachable, ConnectionError, IMAPClientError) as exc:
            yield CheckResult(where, login, False, str(exc))
            return
        yield CheckResult(where, login, True)
        try:
            info = await reach(asyncio.to_thread(client.select_folder, box.folder, readonly=True), host)
        except IMAPClientError as exc:
            folders = await _folder_names(client, host)
            fix = f"no folder '{box.folder}' ({_plain(exc)}); set {key}.folder to one of: {folders}"
            yield CheckResult(where, f"select folder {box.folder}", False, fix)
            return
        except Unreachable as exc:
            yield CheckResult(where, f"select folder {box.folder}", False, str(exc))
            return
        count = int(info.get(b"EXISTS", 0))
        yield CheckResult(where, f"select folder {box.folder} ({count} message(s))", True)
    finally:
        await asyncio.to_thread(close_quietly, client)


def _connect(box: MailboxSettings) -> IMAPClient:
    client = IMAPClient(box.host, port=box.port, ssl=box.security == "tls", timeout=CHECK_SECONDS)
    if box.security == "starttls":
        try:
            client.starttls()
        except BaseException:
            close_quietly(client)
            raise
    return client


async def _folder_names(client: IMAPClient, host: str) -> str:
    try:
        listed = await reach(asyncio.to_thread(client.list_folders), host)
    except (Unreachable, IMAPClientError):
        return "(the server did not list its folders)"
    return ", ".join(sorted(str(entry[2]) for entry in listed)) or "(none)"


def _plain(exc: BaseException) -> str:
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


async def _smtp(settings: SmtpSettings, tokens: MailboxTokens | None) -> AsyncIterator[CheckResult]:
    where = "smtp"
    host = f"{settings.host}:{settings.port}"
    smtp = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=False,
        timeout=CHECK_SECONDS,
    )
    try:
        await reach(smtp.connect(), host)
        await reach(smtp.ehlo(), host)
    except Unreachable as exc:
        fix = f"{exc}; check channels.email.smtp.host/port"
        yield CheckResult(where, f"connect to {host} ({settings.security}), EHLO", False, fix)
        return
    except aiosmtplib.SMTPException as exc:
        fix = f"{exc}; check channels.email.smtp.security and port (465 tls, 587 starttls)"
        yield CheckResult(where, f"connect to {host} ({settings.security}), EHLO", False, fix)
        return
    try:
        yield CheckResult(where, f"connect to {host} ({settings.security}), EHLO", True)
        if settings.security == "starttls":
            try:
                await reach(smtp.starttls(), host)
            except (Unreachable, aiosmtplib.SMTPException) as exc:
                fix = (
                    f"{exc}; the server offers no STARTTLS here: check channels.email.smtp.security and port"
                )
                yield CheckResult(where, "STARTTLS", False, fix)
                return
            yield CheckResult(where, "STARTTLS", True)
        async for result in _smtp_auth(smtp, settings, tokens, host):
            yield result
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await asyncio.wait_for(smtp.quit(), CHECK_SECONDS)


async def _smtp_auth(
    smtp: aiosmtplib.SMTP, settings: SmtpSettings, tokens: MailboxTokens | None, host: str
) -> AsyncIterator[CheckResult]:
    if settings.auth == "oauth2":
        if tokens is None:
            yield CheckResult("smtp", "AUTH (oauth2)", False, 'no mailbox has auth = "oauth2" to sign in as')
            return
        what = f"AUTH as {tokens.account} (oauth2)"
        try:
            await reach(sign_in_with_token(smtp, tokens.account, tokens), host)
        except (Unreachable, aiosmtplib.SMTPException, *_TOKEN_ERRORS) as exc:
            yield CheckResult("smtp", what, False, f"{exc}; check the app's SMTP permission")
            return
        yield CheckResult("smtp", what, True)
        return
    if not settings.username:
        yield CheckResult("smtp", "no AUTH configured (channels.email.smtp.username is empty)", True)
        return
    what = f"AUTH as {settings.username}"
    try:
        await reach(smtp.login(settings.username, settings.password or ""), host)
    except aiosmtplib.SMTPAuthenticationError as exc:
        fix = (
            f"the server refused ({exc.code} {exc.message}); check channels.email.smtp.username and the "
            "password variable channels.email.smtp.password reads"
        )
        yield CheckResult("smtp", what, False, fix)
        return
    except (Unreachable, aiosmtplib.SMTPException) as exc:
        yield CheckResult("smtp", what, False, str(exc))
        return
    yield CheckResult("smtp", what, True)
