"""Business hours: a weekly schedule in a time zone, minus holidays; adding and measuring business time.

Spans are wall-clock times in the calendar's zone, so a DST change moves them in UTC
as the team's clocks move. A span start that falls in a spring-forward gap opens at
the first valid minute after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar", "always_open"]

_MAX_DAYS = 800  # a schedule with no open day within ~2 years is refused rather than looped on


def _local_minute(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """``minute`` after local midnight of ``day`` in ``zone``, as UTC; DST gaps move forward."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:  # inside a gap
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(UTC)


class BusinessCalendar:
    """When a team works. ``week`` maps weekday (0 = Monday) to (start, end) minutes after midnight.

    ``week=None`` means always open: business time equals wall time.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        week: dict[int, list[tuple[int, int]]] | None,
        is_holiday: Callable[[date], bool] | None = None,
    ) -> None:
        self.zone = zone
        self.week = week
        self.is_holiday = is_holiday or (lambda _day: False)
        if week is not None and not any(week.values()):
            raise ValueError("business hours have no open span in the week")

    @property
    def always_open(self) -> bool:
        """True when there is no schedule (clocks run around the clock)."""
        return self.week is None

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open spans of a local day, as UTC (start, end); none on a holiday."""
        if self.week is None:
            start = _local_minute(day, 0, self.zone)
            return [(start, _local_minute(day + timedelta(days=1), 0, self.zone))]
        if self.is_holiday(day):
            return []
        return [
            (_local_minute(day, s, self.zone), _local_minute(day, e, self.zone))
            for s, e in self.week[day.weekday()]
        ]

    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            for start, end in self.spans(day):
                if end > moment:
                    yield max(start, moment), end
            day += timedelta(days=1)
        raise ValueError("no business hours within two years; check the schedule and holidays")

    def is_open(self, moment: datetime) -> bool:
        """True when ``moment`` is inside business hours."""
        if self.week is None:
            return True
        start, _ = next(self._spans_from(moment))
        return start <= moment

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when open, else the next opening time."""
        if self.week is None:
            return moment
        start, _ = next(self._spans_from(moment))
        return start

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when ``amount`` of business time has passed after ``start``."""
        if self.week is None:
            return start + amount
        remaining = max(amount, timedelta(0))
        for span_start, span_end in self._spans_from(start):
            if span_start + remaining <= span_end:
                return span_start + remaining
            remaining -= span_end - span_start
        raise AssertionError("unreachable")  # pragma: no cover - _spans_from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        if end <= start:
            return timedelta(0)
        if self.week is None:
            return end - start
        total = timedelta(0)
        for span_start, span_end in self._spans_from(start):
            if span_start >= end:
                break
            total += min(span_end, end) - span_start
        return total


def always_open(zone: ZoneInfo | None = None) -> BusinessCalendar:
    """A calendar without a schedule."""
    return BusinessCalendar(zone or ZoneInfo("UTC"), None)
