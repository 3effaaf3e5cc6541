"""Stored OAuth2 sign-ins on SQLite and the real PostgreSQL: encrypted at rest, generations, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from storage import Store
from storage.migrate import upgrade
from storage.oauth_tokens import TokenVault, UnreadableSecret

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def test_sign_in_round_trip_encrypted_renewed_expired_replaced(db_url: str) -> None:
    await upgrade(db_url)
    store = Store(db_url)
    key = Fernet.generate_key().decode()
    vault = TokenVault(store, key)
    try:
        assert await vault.load("support") is None and await vault.generation("support") is None
        first = await vault.sign_in(
            "support",
            provider="microsoft",
            account="support@example.com",
            refresh_token="rt-secret-1",
            access_token="at-secret-1",
            access_expires_at=NOW + timedelta(hours=1),
            now=NOW,
        )
        async with store.transaction() as uow:
            raw = (
                await uow.session.execute(text("SELECT refresh_token, access_token FROM oauth_tokens"))
            ).one()
        assert "rt-secret-1" not in raw[0] and "at-secret-1" not in raw[1]

        later = NOW + timedelta(minutes=55)
        assert await vault.renewed(
            "support", first, access_token="at-2", access_expires_at=later, refresh_token="rt-secret-2"
        )
        stored = await vault.load("support")
        assert stored is not None
        assert (stored.refresh_token, stored.access_token, stored.access_expires_at) == (
            "rt-secret-2",
            "at-2",
            later,
        )

        await vault.expired("support", first, "invalid_grant: AADSTS50173 revoked", later)
        stored = await vault.load("support")
        assert stored is not None and stored.expired_at == later and stored.access_token is None
        assert stored.expired_reason == "invalid_grant: AADSTS50173 revoked"

        second = await vault.sign_in(
            "support",
            provider="microsoft",
            account="support@example.com",
            refresh_token="rt-3",
            access_token=None,
            access_expires_at=None,
            now=later,
        )
        assert second == first + 1 and await vault.generation("support") == second
        stored = await vault.load("support")
        assert stored is not None and stored.expired_at is None and stored.refresh_token == "rt-3"
        # a renewal of the old sign-in that finishes late does not overwrite the new one
        assert not await vault.renewed(
            "support", first, access_token="stale", access_expires_at=later, refresh_token="stale"
        )

        with pytest.raises(UnreadableSecret, match="run threadline auth email support again"):
            await TokenVault(store, Fernet.generate_key().decode()).load("support")
    finally:
        await store.close()
