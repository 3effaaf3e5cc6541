"""A database outage is told once in the log, also when the database flaps while it comes back."""

from __future__ import annotations

import logging

import pytest

from bot.runtime.db_outage import DatabaseOutage
from storage.db import DatabaseUnavailable

DOWN = "database unreachable; retrying with backoff"
UP = "database reachable again"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_one_outage_is_one_line_down_and_one_up(caplog: pytest.LogCaptureFixture) -> None:
    outage = DatabaseOutage()
    for _ in range(5):
        outage.failed("outbox", DatabaseUnavailable("connection refused"))
    outage.succeeded()
    outage.succeeded()
    assert _lines(caplog) == [DOWN, UP]


def test_a_failure_just_after_recovery_is_the_same_outage(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    outage = DatabaseOutage(clock=lambda: now[0])
    outage.failed("outbox", DatabaseUnavailable("connection refused"))
    now[0] += 20
    outage.succeeded()  # one loop got through while the server was still starting up
    now[0] += 1
    assert outage.failed("mailbox", DatabaseUnavailable("the database system is starting up")) > 0
    assert outage.down
    now[0] += 1
    outage.succeeded()
    assert _lines(caplog) == [DOWN, UP]  # the flap is logged at debug only


def test_a_failure_long_after_recovery_is_a_new_outage(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    outage = DatabaseOutage(clock=lambda: now[0])
    outage.failed("outbox", DatabaseUnavailable("connection refused"))
    outage.succeeded()
    now[0] += 600
    outage.failed("outbox", DatabaseUnavailable("connection refused"))
    outage.succeeded()
    assert _lines(caplog) == [DOWN, UP, DOWN, UP]
