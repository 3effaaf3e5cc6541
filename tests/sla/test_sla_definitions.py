"""One definition per number: the digest's median is the report's p50, reminders say what is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.digest.percentiles import percentile
from bot.sla.calendar import always_open
from bot.sla.checker import reminder_text
from bot.sla.clock import SlaPoint
from bot.sla.policy import SlaPolicy


def test_median_is_the_nearest_rank_p50_everywhere() -> None:
    values = [60.0, 120.0, 600.0, 7200.0]  # statistics.median would say 360
    assert percentile(values, 50) == 120.0


def test_a_reminder_says_the_seconds_left_not_a_rounded_minute() -> None:
    due = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    policy = SlaPolicy(always_open(), "UTC", first_response=timedelta(hours=1))
    point = SlaPoint("first_response:warning", "first_response", "warning", due - timedelta(seconds=38))
    text = reminder_text(point, due, 7, None, policy, due - timedelta(seconds=38), late=False)
    assert "due in 38 s" in text
