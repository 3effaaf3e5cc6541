"""A mailbox's access token, kept fresh: shared by its IMAP reader and by SMTP replies from its inbox.

The token is renewed ``margin`` before it expires (and at once when a server refused it).
A sign-in the identity provider refuses is recorded as expired in the database; from then
on no request goes to the identity provider and the mailbox waits for a new sign-in
(``threadline auth email NAME``), which it notices by the stored sign-in's generation.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from adapters.email.oauth_providers import (
    CredentialsRefused,
    Grant,
    IdentityProvider,
    SignInExpired,
    TokenServiceError,
)
from adapters.email.settings import MailboxSettings
from bot.clock import Clock, SystemClock
from storage.oauth_tokens import TokenVault, UnreadableSecret

__all__ = [
    "CredentialsRefused",
    "MailboxTokens",
    "SignInExpired",
    "TokenServiceError",
    "sign_in_expired_text",
]

log = logging.getLogger(__name__)


def sign_in_expired_text(name: str, account: str) -> str:
    """What the team reads when a mailbox must be signed in again."""
    return f"mailbox {account}: sign-in expired; run threadline auth email {name}"


class MailboxTokens:
    """Access tokens of mailbox ``name`` (``settings.auth == "oauth2"``)."""

    def __init__(
        self,
        name: str,
        settings: MailboxSettings,
        store: TokenVault,
        *,
        clock: Clock | None = None,
        provider: IdentityProvider | None = None,
        margin: timedelta = timedelta(minutes=5),
    ) -> None:
        assert settings.oauth is not None
        self.name, self.settings, self.store = name, settings, store
        self.account = settings.username or ""
        self.oauth = settings.oauth
        self.clock = clock or SystemClock()
        timeout = settings.timeout_seconds
        self.provider = provider or IdentityProvider(self.oauth, self.account, timeout=timeout)
        self.margin = margin
        self.renewals = 0
        """How many times the identity provider was asked (metrics, tests)."""
        self._lock = asyncio.Lock()
        self._grant: Grant | None = None
        self._generation: int | None = None
        self._expired_generation: int | None = None

    @property
    def expired_text(self) -> str:
        """The notice for an expired sign-in of this mailbox."""
        return sign_in_expired_text(self.name, self.account)

    async def access_token(self, *, renew: bool = False) -> str:
        """A valid access token; ``renew`` when a server just refused the current one.

        Raises ``SignInExpired`` (sign in again), ``CredentialsRefused`` (fix the app) or
        ``TokenServiceError`` (try again later).
        """
        async with self._lock:
            now = self.clock.now()
            grant = self._grant
            if not renew and grant is not None and now < grant.expires_at - self.margin:
                return grant.access_token
            if self.oauth.unattended:
                self._grant = await self._ask(None)
                return self._grant.access_token
            try:
                stored = await self.store.load(self.name)
            except UnreadableSecret as exc:  # a new key: only a new sign-in helps
                raise SignInExpired(str(exc)) from exc
            if stored is None:
                raise SignInExpired(
                    f"mailbox {self.account}: not signed in yet; run threadline auth email {self.name}"
                )
            if stored.expired_at is not None or stored.generation == self._expired_generation:
                self._expired_generation = stored.generation
                raise SignInExpired(self.expired_text)
            self._generation = stored.generation
            cached = stored.access_token, stored.access_expires_at
            if not renew and cached[0] and cached[1] is not None and now < cached[1] - self.margin:
                self._grant = Grant(cached[0], cached[1])  # a restart needs no identity provider
                return cached[0]
            try:
                fresh = await self._ask(stored.refresh_token)
            except SignInExpired as exc:
                self._expired_generation = stored.generation
                self._grant = None
                log.warning("oauth sign-in expired", extra={"mailbox": self.name, "reason": str(exc)[:200]})
                await self.store.expired(self.name, stored.generation, str(exc), now)
                raise SignInExpired(self.expired_text) from exc
            await self.store.renewed(
                self.name,
                stored.generation,
                access_token=fresh.access_token,
                access_expires_at=fresh.expires_at,
                refresh_token=fresh.refresh_token,
            )
            self._grant = fresh
            return fresh.access_token

    async def _ask(self, refresh_token: str | None) -> Grant:
        self.renewals += 1
        grant = await asyncio.to_thread(self.provider.renew, refresh_token, self.clock.now())
        log.info(
            "oauth access token renewed",
            extra={"mailbox": self.name, "expires_at": grant.expires_at.isoformat(timespec="seconds")},
        )
        return grant

    async def signed_in_again(self) -> bool:
        """True when a new sign-in was stored since the last one the identity provider refused."""
        if self.oauth.unattended:
            return True
        generation = await self.store.generation(self.name)
        return generation is not None and generation != self._expired_generation
