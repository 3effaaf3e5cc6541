"""OAuth2 sign-ins of mailboxes, kept in the ``oauth_tokens`` table encrypted with a Fernet key.

One row per mailbox: the refresh token (and the last access token with its expiry, so a
restart does not need the identity provider), both encrypted; who signed in; and, once the
identity provider refused the refresh token, when and why (the sign-in has expired). A new
sign-in replaces the row and bumps ``generation``, which is how a waiting reader notices it.
Without the key nothing can be read: a wrong key is reported, never guessed around.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Store
from storage.models import Base
from storage.types import UTCDateTime

__all__ = ["OAuthTokenRow", "StoredSignIn", "TokenVault", "UnreadableSecret"]


class OAuthTokenRow(Base):
    """The stored sign-in of one mailbox (token columns are Fernet ciphertext)."""

    __tablename__ = "oauth_tokens"
    mailbox: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    account: Mapped[str] = mapped_column(String(320), nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_reason: Mapped[str | None] = mapped_column(String(300))


@dataclass(frozen=True)
class StoredSignIn:
    """A mailbox's sign-in as read back: tokens decrypted."""

    mailbox: str
    provider: str
    account: str
    refresh_token: str | None
    access_token: str | None
    access_expires_at: datetime | None
    generation: int
    signed_in_at: datetime
    expired_at: datetime | None
    expired_reason: str | None


class UnreadableSecret(Exception):
    """A stored token cannot be decrypted: THREADLINE_SECRET_KEY is not the key it was written with."""


class TokenVault:
    """Reads and writes mailbox sign-ins; tokens are encrypted with ``key`` (a Fernet key)."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self._fernet = Fernet(key.encode())

    @classmethod
    def from_env(cls, store: Store, env: Mapping[str, str], name: str) -> TokenVault:
        """A vault keyed by the environment variable ``name``; ValueError naming it when unusable."""
        try:
            return cls(store, env[name])
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{name} is not set or not a Fernet key; run threadline check-config for the fix"
            ) from exc

    def _seal(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def _open(self, value: str | None, mailbox: str) -> str | None:
        if value is None:
            return None
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret(
                f"the stored sign-in of mailbox {mailbox} cannot be decrypted with THREADLINE_SECRET_KEY; "
                f"restore the key it was stored with, or run threadline auth email {mailbox} again"
            ) from None

    async def load(self, mailbox: str) -> StoredSignIn | None:
        """The stored sign-in of ``mailbox``, or None when nobody signed in yet."""
        async with self.store.transaction() as uow:
            row = await uow.session.get(OAuthTokenRow, mailbox)
            if row is None:
                return None
            return StoredSignIn(
                mailbox=row.mailbox,
                provider=row.provider,
                account=row.account,
                refresh_token=self._open(row.refresh_token, mailbox),
                access_token=self._open(row.access_token, mailbox),
                access_expires_at=row.access_expires_at,
                generation=row.generation,
                signed_in_at=row.signed_in_at,
                expired_at=row.expired_at,
                expired_reason=row.expired_reason,
            )

    async def generation(self, mailbox: str) -> int | None:
        """The generation of the stored sign-in (changes with every new sign-in), or None."""
        async with self.store.transaction() as uow:
            row = await uow.session.get(OAuthTokenRow, mailbox)
            return None if row is None else row.generation

    async def sign_in(
        self,
        mailbox: str,
        *,
        provider: str,
        account: str,
        refresh_token: str | None,
        access_token: str | None,
        access_expires_at: datetime | None,
        now: datetime,
    ) -> int:
        """Store a new sign-in (replacing any earlier one, expired or not); return its generation."""
        async with self.store.transaction() as uow:
            row = await uow.session.get(OAuthTokenRow, mailbox)
            if row is None:
                row = OAuthTokenRow(mailbox=mailbox, generation=0)
                uow.session.add(row)
            row.provider, row.account, row.signed_in_at = provider, account, now
            row.refresh_token = self._seal(refresh_token)
            row.access_token = self._seal(access_token)
            row.access_expires_at = access_expires_at
            row.generation = (row.generation or 0) + 1
            row.expired_at = row.expired_reason = None
            return row.generation

    async def renewed(
        self,
        mailbox: str,
        generation: int,
        *,
        access_token: str,
        access_expires_at: datetime,
        refresh_token: str | None,
    ) -> bool:
        """Keep a renewed access token (and a rotated refresh token) of sign-in ``generation``.

        False (nothing written) when a newer sign-in replaced it meanwhile.
        """
        async with self.store.transaction() as uow:
            row = await uow.session.get(OAuthTokenRow, mailbox)
            if row is None or row.generation != generation:
                return False
            row.access_token = self._seal(access_token)
            row.access_expires_at = access_expires_at
            if refresh_token is not None:
                row.refresh_token = self._seal(refresh_token)
            return True

    async def expired(self, mailbox: str, generation: int, reason: str, now: datetime) -> None:
        """Record that the identity provider refused sign-in ``generation`` (revoked or expired)."""
        async with self.store.transaction() as uow:
            row = await uow.session.get(OAuthTokenRow, mailbox)
            if row is not None and row.generation == generation and row.expired_at is None:
                row.expired_at, row.expired_reason = now, reason[:300]
                row.access_token = row.access_expires_at = None
