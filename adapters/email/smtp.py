"""Deliver replies over SMTP with aiosmtplib.

4xx answers and network trouble are transient (the outbox retries); 5xx answers
are permanent and their text is shown in the thread. A refused sign-in (535, or an
expired or refused OAuth sign-in) is a ``SignInRefused``: the team is told at once with the fix, and
the reply waits (never given up) until a send works again.
With ``auth = "oauth2"`` each reply signs in with the token of its inbox's mailbox.
The Message-ID comes from the outbound uid, so a retry after an ambiguous failure
re-sends the same message id. The send record is written as soon as the server answers 250 to the
DATA, before QUIT: only a crash between that answer and the record sends the mail again (SMTP has no
idempotency key; the same Message-ID lets the customer's mail client show it once).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from email.message import EmailMessage

import aiosmtplib

from adapters.email.compose import ReplyComposer, envelope_recipients
from adapters.email.oauth_tokens import CredentialsRefused, MailboxTokens, SignInExpired, TokenServiceError
from adapters.email.settings import SmtpSettings
from adapters.email.smtp_oauth import send_with_token
from bot.ports import (
    DeliveryError,
    MemoryParts,
    PermanentDeliveryError,
    SentParts,
    SignInRefused,
    TransientDeliveryError,
)
from bot.views import OutboundView

__all__ = ["SmtpSender", "classify_smtp_error"]

log = logging.getLogger(__name__)


def _answer(code: int, message: str) -> str:
    return f"SMTP {code} {' '.join(message.split())}".strip()


def classify_smtp_error(exc: BaseException) -> DeliveryError:
    """Map an aiosmtplib/network exception to a refused sign-in (535, a refused OAuth sign-in), a
    transient (4xx, network, the identity provider unreachable) or a permanent (5xx) delivery error."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SignInRefused(
            f"the SMTP server refused the sign-in ({_answer(exc.code, exc.message)}); "
            "check the SMTP credentials or the app's SMTP permission"
        )
    if isinstance(exc, SignInExpired | CredentialsRefused):
        return SignInRefused(f"SMTP sign-in: {exc}")
    if isinstance(exc, TokenServiceError):
        return TransientDeliveryError(f"SMTP sign-in: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        answers = [_answer(r.code, r.message) for r in exc.recipients]
        temporary = all(400 <= r.code < 500 for r in exc.recipients) and bool(exc.recipients)
        reason = "recipient refused: " + "; ".join(answers)
        return TransientDeliveryError(reason) if temporary else PermanentDeliveryError(reason)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        reason = _answer(exc.code, exc.message)
        if 400 <= exc.code < 500:  # the server asks us to wait (throttling, greylisting, busy)
            return TransientDeliveryError(reason, rate_limited=True)
        if exc.code < 0:
            return TransientDeliveryError(reason)
        return PermanentDeliveryError(reason)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentDeliveryError(f"SMTP server does not support a required feature: {exc}")
    return TransientDeliveryError(f"SMTP connection failed: {type(exc).__name__}: {exc}")


class SmtpSender:
    """A ``ChannelSender`` for email that talks to one SMTP server; one connection per message."""

    channel = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        composer: ReplyComposer | None = None,
        *,
        tokens: Mapping[str, MailboxTokens] | None = None,
    ) -> None:
        """``tokens`` maps inbox keys to the OAuth2 tokens of their mailbox (``auth = "oauth2"``)."""
        self.settings = settings
        self.composer = composer or ReplyComposer()
        self.tokens = dict(tokens or {})

    async def _send_with_password(
        self, email: EmailMessage, sender: str, recipients: list[str], accepted: Callable[[], Awaitable[None]]
    ) -> None:
        """Connect, sign in with ``[channels.email.smtp]`` username/password when set, send, call
        ``accepted`` while the connection is still open, quit (a failed QUIT changes nothing)."""
        settings = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username or None,
            password=settings.password or None,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout,
        )
        await smtp.connect()
        try:
            await smtp.send_message(email, sender=sender, recipients=recipients)
            await accepted()
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()

    async def erase(self, external_ids: Collection[str]) -> int:
        """Sent mail has left the server: nothing is kept here."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Send ``message``; return its Message-ID. Raises Transient/PermanentDeliveryError.

        A mail ``parts`` records as sent (part 0) is not sent again: the retry after a crash between
        the SMTP server's 250 and the outbox marking the row done sends nothing."""
        parts = parts if parts is not None else MemoryParts()
        already = parts.sent(0)
        if already is not None:
            log.info("smtp already delivered", extra={"outbound_uid": message.uid, "message_id": already})
            return already
        try:
            email = self.composer(message)
        except ValueError as exc:
            raise PermanentDeliveryError(f"cannot build the email: {exc}") from exc
        message_id = str(email["Message-ID"])
        settings = self.settings
        recipients = envelope_recipients(email)
        tokens = self.tokens.get(message.inbox) if settings.auth == "oauth2" else None
        if settings.auth == "oauth2" and tokens is None:
            raise PermanentDeliveryError(
                f'smtp.auth is "oauth2" but inbox {message.inbox} has no mailbox with auth = "oauth2" '
                'to sign in as; add one or set smtp.auth = "password"'
            )

        async def accepted() -> None:  # the server's 250 for the DATA: recorded before QUIT
            await parts.record(0, message_id)

        try:
            if tokens is not None:
                await send_with_token(
                    settings,
                    email,
                    sender=message.inbox_address,
                    recipients=recipients,
                    tokens=tokens,
                    accepted=accepted,
                )
            else:
                await self._send_with_password(email, message.inbox_address, recipients, accepted)
        except (
            TimeoutError,
            aiosmtplib.SMTPException,
            OSError,
            SignInExpired,
            CredentialsRefused,
            TokenServiceError,
        ) as exc:
            error = classify_smtp_error(exc)
            log.warning(
                "smtp delivery failed",
                extra={
                    "outbound_uid": message.uid,
                    "conversation": message.conversation_number,
                    "smtp_host": settings.host,
                    "reason": error.reason,
                    "permanent": isinstance(error, PermanentDeliveryError),
                },
            )
            raise error from exc
        log.info(
            "smtp delivered",
            extra={
                "outbound_uid": message.uid,
                "conversation": message.conversation_number,
                "message_id": message_id,
            },
        )
        return message_id
