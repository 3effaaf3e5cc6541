"""The status state machine: every allowed and every refused transition."""

from __future__ import annotations

import itertools

import pytest

from bot.domain import Status
from bot.lifecycle import TRANSITIONS, TransitionRefused, next_status

TRIGGERS = ("snooze", "wake", "reopen", "close", "customer_message")
ALLOWED = {
    (Status.OPEN, "snooze"): Status.SNOOZED,
    (Status.OPEN, "close"): Status.CLOSED,
    (Status.OPEN, "customer_message"): Status.OPEN,
    (Status.SNOOZED, "snooze"): Status.SNOOZED,
    (Status.SNOOZED, "wake"): Status.OPEN,
    (Status.SNOOZED, "reopen"): Status.OPEN,
    (Status.SNOOZED, "close"): Status.CLOSED,
    (Status.SNOOZED, "customer_message"): Status.OPEN,
    (Status.CLOSED, "reopen"): Status.OPEN,
    (Status.CLOSED, "customer_message"): Status.OPEN,
}


def test_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("status", "trigger"), list(itertools.product(Status, TRIGGERS)))
def test_each_transition_is_allowed_or_refused_with_a_reason(status: Status, trigger: str) -> None:
    if (status, trigger) in ALLOWED:
        assert next_status(status, trigger, 7) == ALLOWED[(status, trigger)]
    else:
        with pytest.raises(TransitionRefused) as info:
            next_status(status, trigger, 7)
        assert "#7" in str(info.value)
