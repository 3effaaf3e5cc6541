"""Fixtures for the email channel tests; the helpers live in ``email_servers`` (the bench uses them too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.email.email_servers import (
    Dovecot,
    Recorder,
    Sink,
    free_port,
    make_mail,
    start_dovecot,
    stop_dovecot,
)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh Dovecot per test (starts in well under a second); skips when Dovecot is missing."""
    server = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server)


@pytest.fixture
def recorder() -> Recorder:
    """A fresh recording ingest."""
    return Recorder()


@pytest.fixture
def mail() -> Callable[..., bytes]:
    """The ``make_mail`` factory."""
    return make_mail


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    """A real aiosmtpd server on a free loopback port, storing what it receives."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
