"""Fixtures for the email channel tests (Dovecot and SMTP fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from storage import Store
from storage.migrate import upgrade
from storage.oauth_tokens import TokenVault
from testkit.email.dovecot import Dovecot, start_dovecot, stop_dovecot
from testkit.email.idp_standin import IdentityProviderStandIn, start_idp
from testkit.email.oauth_servers import TEST_ACCOUNT, TEST_SECRET_KEY, dovecot_oauth_auth
from testkit.email.recorder import Recorder
from testkit.email.sample_mail import make_mail


@pytest.fixture
def recorder() -> Recorder:
    """A fresh recording ingest."""
    return Recorder()


@pytest.fixture
def mail() -> Callable[..., bytes]:
    """The ``make_mail`` factory."""
    return make_mail


@pytest.fixture
async def idp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[IdentityProviderStandIn]:
    """The stand-in identity provider; ``requests`` trusts its certificate (REQUESTS_CA_BUNDLE)."""
    stand_in, runner = await start_idp()
    stand_in.users.add(TEST_ACCOUNT)
    stand_in.clients.update({"ms-public": "", "ms-app": "app-secret", "google-client": "google-secret"})
    stand_in.app_mailboxes["ms-app"] = TEST_ACCOUNT
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", stand_in.ca_file)
    try:
        yield stand_in
    finally:
        await runner.cleanup()


@pytest.fixture
def oauth_dovecot(idp: IdentityProviderStandIn) -> Iterator[Dovecot]:
    """Dovecot that checks every XOAUTH2/OAUTHBEARER token with the stand-in."""
    server = start_dovecot(dovecot_oauth_auth(idp))
    try:
        yield server
    finally:
        stop_dovecot(server)


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[TokenVault]:
    """The token store on a fresh SQLite database."""
    url = f"sqlite:///{tmp_path}/tokens.db"
    await upgrade(url)
    store = Store(url)
    try:
        yield TokenVault(store, TEST_SECRET_KEY)
    finally:
        await store.close()
