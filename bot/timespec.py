"""Snooze times typed by agents: ``2h``, ``30m``, ``tomorrow 9:00``, ``mon 9:00``, ``2026-12-01 14:00``.

Times of day are read in the inbox's time zone; the result is an aware UTC datetime.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["SNOOZE_USAGE", "TimeSpecError", "parse_duration", "parse_snooze"]

SNOOZE_USAGE = "snooze 2h | 30m | 1h30m | 2d | tomorrow 9:00 | mon 9:00 | 17:30 | 2026-12-01 9:00"

_DURATION = re.compile(r"^(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_DEFAULT_TIME = time(9, 0)
_MAX_AHEAD = timedelta(days=366)


class TimeSpecError(ValueError):
    """The text is not a snooze time; the message says what is accepted."""


def _parse_time(text: str) -> time:
    match = _TIME.match(text.strip().lower())
    if not match:
        raise TimeSpecError(f"'{text}' is not a time of day; use 9:00 or 17:30")
    hour, minute, ampm = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if ampm:
        if not 1 <= hour <= 12:
            raise TimeSpecError(f"'{text}' is not a time of day")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise TimeSpecError(f"'{text}' is not a time of day; hours 0-23, minutes 0-59")
    return time(hour, minute)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz`` as UTC; a time that DST skips moves forward past the gap."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:  # inside a spring-forward gap
        aware = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return aware.astimezone(UTC)


def parse_duration(text: str) -> timedelta | None:
    """Read ``2h``, ``30m``, ``1h30m``, ``7d`` or ``1w``; None when the text is not a duration."""
    match = _DURATION.match(text.strip().lower().replace(" ", ""))
    if not match or not any(match.groups()):
        return None
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def parse_snooze(spec: str, now: datetime, tz: ZoneInfo) -> datetime:
    """Return the UTC moment ``spec`` names, strictly after ``now``; raise TimeSpecError otherwise."""
    text = " ".join(spec.strip().lower().split())
    if not text:
        raise TimeSpecError(f"say until when: {SNOOZE_USAGE}")
    delta = parse_duration(text)
    if delta is not None:
        if delta <= timedelta(0):
            raise TimeSpecError("snooze for at least one minute")
        moment = now + delta
    else:
        moment = _calendar(text, now, tz)
    if moment <= now:
        raise TimeSpecError(f"'{spec}' is in the past")
    if moment - now > _MAX_AHEAD:
        raise TimeSpecError("snooze at most a year ahead")
    return moment


def _calendar(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    today = now.astimezone(tz).date()
    head, _, rest = text.partition(" ")
    at = _parse_time(rest) if rest else _DEFAULT_TIME
    if head == "today":
        return _local(today, at, tz)
    if head == "yesterday":
        raise TimeSpecError("'yesterday' is in the past; snooze until a later time, e.g. tomorrow 9:00")
    if head == "tomorrow":
        return _local(today + timedelta(days=1), at, tz)
    if head in _WEEKDAYS:
        ahead = (_WEEKDAYS[head] - today.weekday()) % 7
        candidate = _local(today + timedelta(days=ahead), at, tz)
        return candidate if candidate > now else _local(today + timedelta(days=ahead or 7), at, tz)
    if re.match(r"^\d{4}-\d{2}-\d{2}$", head):
        try:
            day = date.fromisoformat(head)
        except ValueError:
            raise TimeSpecError(f"'{head}' is not a date") from None
        return _local(day, at, tz)
    if not rest and not any(ch.isdigit() for ch in head):
        raise TimeSpecError(f"'{text}' is not a snooze time; use {SNOOZE_USAGE}")
    if not rest:
        at = _parse_time(head)
        candidate = _local(today, at, tz)
        return candidate if candidate > now else _local(today + timedelta(days=1), at, tz)
    raise TimeSpecError(f"'{text}' is not a snooze time; use {SNOOZE_USAGE}")
