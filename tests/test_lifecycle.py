"""The status state machine of bot.lifecycle: every allowed and every refused transition."""

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


TARGET = {
    "snooze": Status.SNOOZED,
    "close": Status.CLOSED,
    "wake": Status.OPEN,
    "reopen": Status.OPEN,
    "customer_message": Status.OPEN,
}
"""Where each trigger leads, whatever the status it starts from."""


@pytest.mark.parametrize(("start", "trigger"), sorted(TRANSITIONS))
def test_every_transition_leads_where_its_trigger_says(start: Status, trigger: str) -> None:
    assert TRANSITIONS[(start, trigger)] == TARGET[trigger]


def test_a_closed_conversation_only_reopens() -> None:
    leaving = {trigger for (start, trigger) in TRANSITIONS if start == Status.CLOSED}
    assert leaving == {"reopen", "customer_message"}


@pytest.mark.parametrize(("status", "trigger"), list(itertools.product(Status, TRIGGERS)))
def test_each_transition_is_allowed_or_refused_with_a_reason(status: Status, trigger: str) -> None:
    if (status, trigger) in ALLOWED:
        assert next_status(status, trigger, 7) == ALLOWED[(status, trigger)]
    else:
        with pytest.raises(TransitionRefused) as info:
            next_status(status, trigger, 7)
        assert "#7" in str(info.value)
