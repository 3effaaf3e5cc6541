"""Snooze times in the inbox's time zone, including DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.timespec import TimeSpecError, parse_duration, parse_snooze

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("2h", MONDAY + timedelta(hours=2)),
        ("30m", MONDAY + timedelta(minutes=30)),
        ("1h30m", MONDAY + timedelta(minutes=90)),
        ("2d", MONDAY + timedelta(days=2)),
        ("tomorrow 9:00", datetime(2026, 1, 6, 8, 0, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 1, 6, 8, 0, tzinfo=UTC)),
        ("mon 9:00", datetime(2026, 1, 12, 8, 0, tzinfo=UTC)),  # today 9:00 passed → next week
        ("mon 11:00", datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),  # later today
        ("friday 5pm", datetime(2026, 1, 9, 16, 0, tzinfo=UTC)),
        ("17:30", datetime(2026, 1, 5, 16, 30, tzinfo=UTC)),
        ("8:00", datetime(2026, 1, 6, 7, 0, tzinfo=UTC)),
        ("2026-02-01 14:00", datetime(2026, 2, 1, 13, 0, tzinfo=UTC)),
    ],
)
def test_snooze_specs(spec: str, expected: datetime) -> None:
    assert parse_snooze(spec, MONDAY, AMS) == expected


@pytest.mark.parametrize(
    "spec", ["", "soon", "25:00", "tomorrow 9:99", "0m", "2025-01-01", "2027-06-01", "2026-13-01"]
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(TimeSpecError):
        parse_snooze(spec, MONDAY, AMS)


def test_dst_spring_forward_gap_moves_past_it() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday; clocks jump 02:00→03:00 on Sunday
    assert parse_snooze("tomorrow 2:30", now, AMS) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert parse_snooze("tomorrow 9:00", now, AMS) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_durations() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("1w") == timedelta(weeks=1)
    assert parse_duration("soon") is None
