"""Signing in to IMAP (password, XOAUTH2, OAUTHBEARER) and what a reader does when sign-in is refused.

A refused sign-in is not a network failure: retrying quickly only risks locking the
account. ``SignInBackoff`` turns it into one clear problem (naming the mailbox and quoting
the server) for health and the ops notice, logs it once, and waits long between attempts;
an expired OAuth sign-in is not retried at all until someone signs in again.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from adapters.email.oauth_providers import CredentialsRefused, SignInExpired
from adapters.email.settings import MailboxSettings

__all__ = ["AuthRefused", "SignInBackoff", "sign_in"]

log = logging.getLogger(__name__)
_BYTES_REPR = re.compile(r"""b(['"])(.*?)\1""")


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class AuthRefused(Exception):
    """The mail server refused the sign-in; the message is the server's answer."""


def _refused(exc: LoginError, prefix: str = "") -> Exception:
    """What a failed LOGIN/AUTHENTICATE means: a refusal, or (RFC 5530 ``[UNAVAILABLE]``) a temporary
    failure on the server's side, which is retried like a network error."""
    text = _server_text(exc)
    if "[UNAVAILABLE]" in text.upper():
        return ConnectionError(f"the server cannot check sign-ins right now: {text}")
    return AuthRefused(f"{prefix}{text}")


def _server_text(exc: BaseException) -> str:
    """The server's answer without Python's byte-string quoting."""
    text = _BYTES_REPR.sub(lambda m: m.group(2), str(exc))
    return " ".join(text.split())[:200] or type(exc).__name__


def oauth_mechanism(client: IMAPClient, configured: str) -> str:
    """OAUTHBEARER (RFC 7628) when configured or, for 'auto', when the server offers it; else XOAUTH2."""
    if configured == "auto":
        return "OAUTHBEARER" if client.has_capability("AUTH=OAUTHBEARER") else "XOAUTH2"
    return configured.upper()


def sign_in(client: IMAPClient, settings: MailboxSettings, token: Callable[[bool], str] | None) -> None:
    """Log ``client`` in as the mailbox; ``token(renew)`` gives an access token (auth = 'oauth2').

    With OAuth a refused token is renewed once and tried again (it may have been revoked or
    expired early). Raises ``AuthRefused`` with the server's text, or ``ConnectionError`` when
    the server says it cannot check sign-ins right now.
    """
    user = settings.username or ""
    if settings.auth == "password" or token is None:
        try:
            client.login(user, settings.password or "")
        except LoginError as exc:
            raise _refused(exc) from exc
        return
    assert settings.oauth is not None
    mechanism = oauth_mechanism(client, settings.oauth.mechanism)
    refused: LoginError | None = None
    for renew in (False, True):
        access = token(renew)
        try:
            if mechanism == "OAUTHBEARER":
                client.oauthbearer_login(user, access)
            else:
                client.oauth2_login(user, access)
            return
        except LoginError as exc:
            if isinstance(_refused(exc), ConnectionError):
                raise _refused(exc) from exc
            refused = exc
            log.info("imap oauth sign-in refused", extra={"mailbox": user, "renewed_token": renew})
    assert refused is not None
    raise _refused(refused, f"{mechanism}: ") from refused


class SignInBackoff:
    """The sign-in state of one reader: ``problem`` is shown on health and announced once in chat."""

    def __init__(
        self,
        name: str,
        settings: MailboxSettings,
        *,
        initial: float = 600.0,
        maximum: float = 3600.0,
        check_every: float = 30.0,
    ) -> None:
        self.name, self.settings = name, settings
        self.initial, self.maximum, self.check_every = initial, maximum, check_every
        self.problem: str | None = None
        self.failures = 0

    def _say(self, problem: str) -> None:
        if problem != self.problem:
            log.warning("imap sign-in refused", extra={"mailbox": self.name, "problem": problem})
        self.problem = problem

    def refused(self, exc: AuthRefused | CredentialsRefused, stop: threading.Event) -> None:
        """The server (or the identity provider, for app credentials) refused: wait long, then retry."""
        self.failures += 1
        delay = min(self.maximum, self.initial * 2 ** min(self.failures - 1, 10))
        account = self.settings.username or self.name
        if isinstance(exc, CredentialsRefused):
            fix = "check the app's client id, secret or key, and its mail permissions"
            what = "the identity provider refused the app's credentials"
        elif self.settings.auth == "oauth2":
            fix = "check that the app has the mail permissions and the mailbox allows IMAP"
            what = "the server refused the sign-in"
        else:
            fix = "check the username and password (or app password)"
            what = "the server refused the sign-in"
        self._say(f"mailbox {account}: {what} ({exc}); {fix}. Next try in {_span(delay)}")
        stop.wait(delay)

    def expired(self, exc: SignInExpired, stop: threading.Event, signed_in_again: Callable[[], bool]) -> None:
        """The sign-in expired: wait (without asking anyone but the database) for a new sign-in."""
        self._say(str(exc))
        while not stop.wait(self.check_every):
            if signed_in_again():
                log.info("imap mailbox signed in again", extra={"mailbox": self.name})
                return

    def ok(self) -> None:
        """Signed in: the problem, if any, is over."""
        if self.problem is not None:
            log.info("imap sign-in works again", extra={"mailbox": self.name})
        self.problem, self.failures = None, 0
