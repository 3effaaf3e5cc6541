"""Fixtures for the email channel tests (Dovecot and SMTP fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.email.email_servers import Recorder, make_mail


@pytest.fixture
def recorder() -> Recorder:
    """A fresh recording ingest."""
    return Recorder()


@pytest.fixture
def mail() -> Callable[..., bytes]:
    """The ``make_mail`` factory."""
    return make_mail
