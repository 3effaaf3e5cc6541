"""SMTP submission signed in with an OAuth2 access token: OAUTHBEARER (RFC 7628) where offered, else XOAUTH2.

XOAUTH2 is aiosmtplib's own ``auth_xoauth2``; OAUTHBEARER is sent the same way with the
RFC 7628 initial response. On a refused token the server sends an error challenge (334 with
base64 JSON); the client answers it (XOAUTH2: an empty line; OAUTHBEARER: ``%x01``) and gets
the final 535. A refused token is renewed once and tried again before giving up.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib import SMTPStatus

from adapters.email.oauth_tokens import MailboxTokens
from adapters.email.settings import SmtpSettings

__all__ = ["oauthbearer_response", "send_with_token", "sign_in_with_token"]


def oauthbearer_response(user: str, token: str) -> bytes:
    """The base64 OAUTHBEARER initial client response (RFC 7628 §3.1) for ``user`` and ``token``."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return base64.b64encode(f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode())


async def _oauthbearer(smtp: aiosmtplib.SMTP, user: str, token: str) -> None:
    response = await smtp.execute_command(b"AUTH", b"OAUTHBEARER", oauthbearer_response(user, token))
    if response.code == SMTPStatus.auth_continue:  # the error challenge; RFC 7628 §3.2.3: answer %x01
        response = await smtp.execute_command(base64.b64encode(b"\x01"))
    if response.code != SMTPStatus.auth_successful:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


async def sign_in_with_token(smtp: aiosmtplib.SMTP, user: str, tokens: MailboxTokens) -> None:
    """EHLO, then AUTH OAUTHBEARER or XOAUTH2 as ``user``; a refused token is renewed once and tried again."""
    await smtp.ehlo()
    methods = smtp.server_auth_methods
    configured = tokens.oauth.mechanism
    bearer = configured == "oauthbearer" or (configured == "auto" and "oauthbearer" in methods)
    if not bearer and "xoauth2" not in methods:
        raise aiosmtplib.SMTPNotSupported(
            f"the SMTP server offers no OAuth2 sign-in (AUTH {' '.join(methods) or 'none'})"
        )
    refused: aiosmtplib.SMTPAuthenticationError | None = None
    for renew in (False, True):
        token = await tokens.access_token(renew=renew)
        try:
            if bearer:
                await _oauthbearer(smtp, user, token)
            else:
                await smtp.auth_xoauth2(user, token)
            return
        except aiosmtplib.SMTPAuthenticationError as exc:
            refused = exc
    assert refused is not None
    raise refused


async def send_with_token(
    settings: SmtpSettings,
    email: EmailMessage,
    *,
    sender: str,
    recipients: list[str],
    tokens: MailboxTokens,
    accepted: Callable[[], Awaitable[None]],
) -> None:
    """Connect, sign in as the mailbox of ``tokens`` with its access token, send ``email``, call
    ``accepted`` (the server answered 250 to the DATA: record the send), quit."""
    smtp = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        timeout=settings.timeout,
    )
    await smtp.connect()
    try:
        await sign_in_with_token(smtp, tokens.account, tokens)
        await smtp.send_message(email, sender=sender, recipients=recipients)
        await accepted()
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
