"""Business hours: weekends, holidays (fixed and by country), DST changes, and adding business time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.settings.core import InboxSettings
from bot.settings.sla import BusinessHoursSettings
from bot.sla.calendar import BusinessCalendar
from bot.sla.policy import calendar_for
from testkit.sla import ams

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS_9_17 = {d: [(9 * 60, 17 * 60)] if d < 5 else [] for d in range(7)}


def inbox(**hours: object) -> InboxSettings:
    return InboxSettings.model_validate(
        {
            "channel": "email",
            "address": "a@example.com",
            "chat_channel": "c",
            "timezone": "Europe/Amsterdam",
            "business_hours": hours,
        }
    )


def test_friday_afternoon_plus_two_hours_lands_on_monday_morning() -> None:
    cal = BusinessCalendar(AMS, WEEKDAYS_9_17)
    assert cal.add(ams(2026, 1, 9, 16, 0), timedelta(hours=2)) == ams(2026, 1, 12, 10, 0)
    assert cal.between(ams(2026, 1, 9, 16, 0), ams(2026, 1, 12, 10, 0)) == timedelta(hours=2)
    assert not cal.is_open(ams(2026, 1, 10, 12, 0))
    assert cal.next_open(ams(2026, 1, 10, 12, 0)) == ams(2026, 1, 12, 9, 0)
    assert cal.next_open(ams(2026, 1, 12, 9, 30)) == ams(2026, 1, 12, 9, 30)


def test_a_fixed_holiday_is_skipped() -> None:
    cal = calendar_for(inbox(holidays=["2026-01-06"]))
    # Monday 16:30 + 1h: 30 min on Monday, Tuesday 6 Jan is a holiday, 30 min on Wednesday
    assert cal.add(ams(2026, 1, 5, 16, 30), timedelta(hours=1)) == ams(2026, 1, 7, 9, 30)


def test_country_holidays_come_from_the_holidays_package() -> None:
    cal = calendar_for(inbox(holiday_country="NL"))
    # Monday 27 April 2026 is King's Day in the Netherlands
    assert not cal.is_open(ams(2026, 4, 27, 10, 0))
    assert cal.add(ams(2026, 4, 24, 16, 0), timedelta(hours=2)) == ams(2026, 4, 28, 10, 0)


def test_spring_forward_keeps_local_office_hours() -> None:
    cal = BusinessCalendar(AMS, WEEKDAYS_9_17)
    # Friday 27 March 2026 16:00 CET + 2 business hours → Monday 30 March 10:00 CEST (08:00 UTC)
    due = cal.add(ams(2026, 3, 27, 16, 0), timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert due.astimezone(AMS).hour == 10


def test_clocks_around_the_dst_night_count_real_hours_when_always_open() -> None:
    cal = BusinessCalendar(AMS, None)
    start = ams(2026, 3, 29, 1, 0)  # 01:00 CET; at 02:00 clocks jump to 03:00
    assert cal.add(start, timedelta(hours=2)) == start + timedelta(hours=2)
    assert cal.add(start, timedelta(hours=2)).astimezone(AMS).hour == 4


def test_a_span_ending_at_midnight_and_a_24h_day() -> None:
    cal = BusinessCalendar(AMS, {d: [(0, 24 * 60)] for d in range(7)})
    assert cal.add(ams(2026, 3, 28, 23, 0), timedelta(hours=2)) == ams(2026, 3, 29, 1, 0)
    # the DST night has 23 hours: business time equals real time
    assert cal.between(ams(2026, 3, 29, 0, 0), ams(2026, 3, 30, 0, 0)) == timedelta(hours=23)


def test_business_hours_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="span of hours"):
        BusinessHoursSettings.model_validate({"mon": ["17:00-09:00"]})
    with pytest.raises(ValueError, match="overlap"):
        BusinessHoursSettings.model_validate({"mon": ["09:00-12:00", "11:00-17:00"]})
    with pytest.raises(ValueError, match="holidays package"):
        BusinessHoursSettings.model_validate({"holiday_country": "XX"})
    hours = BusinessHoursSettings.model_validate({"sat": ["10:00-14:00"], "holidays": ["2026-12-25"]})
    assert hours.week()[5] == [(600, 840)] and hours.holidays == [date(2026, 12, 25)]
    with pytest.raises(ValueError, match="no open span"):
        BusinessCalendar(AMS, {d: [] for d in range(7)})
