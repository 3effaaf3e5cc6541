"""Settings of the scheduler: per-inbox SLA policy and business hours, and digests.

Durations of SLA targets are *business time* when the inbox has business hours
(``8h`` = eight working hours), wall-clock time otherwise.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.timespec import parse_duration

__all__ = ["WEEKDAYS", "BusinessHoursSettings", "DigestSettings", "SlaSettings", "known_zone", "parse_span"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_WORKDAY = ["09:00-17:00"]


class _Strict(BaseModel):
    """Unknown keys are errors (same rule as ``bot.settings.core.Strict``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_span(text: str) -> tuple[int, int]:
    """``09:00-17:30`` → minutes after midnight (540, 1050); ``24:00`` may end a span."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a span of hours; write it like 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
        raise ValueError(f"'{text}' is not a span of hours; start before end, within 00:00-24:00")
    return start, end


def known_zone(value: str) -> str:
    """``value`` when it names an IANA time zone; otherwise a ValueError that says how to write one."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{value}'; use an IANA name like Europe/Amsterdam") from None
    return value


def _duration(value: str | None) -> str | None:
    if value is not None and parse_duration(value) is None:
        raise ValueError(f"'{value}' is not a duration; write it like 30m, 2h, 7d or 1w")
    return value


class BusinessHoursSettings(_Strict):
    """``[inboxes.NAME.business_hours]``: when the team works; SLA clocks only run inside these hours."""

    timezone: str | None = Field(None, description="IANA zone; defaults to the inbox's timezone")
    mon: list[str] = Field(default_factory=lambda: list(_WORKDAY))
    tue: list[str] = Field(default_factory=lambda: list(_WORKDAY))
    wed: list[str] = Field(default_factory=lambda: list(_WORKDAY))
    thu: list[str] = Field(default_factory=lambda: list(_WORKDAY))
    fri: list[str] = Field(default_factory=lambda: list(_WORKDAY))
    sat: list[str] = Field(default_factory=list)
    sun: list[str] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list, description="closed all day, e.g. 2026-12-24")
    holiday_country: str | None = Field(
        None, description="public holidays of a country (holidays package), e.g. NL"
    )
    holiday_subdivision: str | None = Field(None, description="state/province for holiday_country, e.g. BY")

    @field_validator("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    @classmethod
    def _spans(cls, value: list[str]) -> list[str]:
        spans = sorted(parse_span(v) for v in value)
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ValueError(f"spans {value} overlap")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays

        if value.upper() not in holidays.list_supported_countries():
            raise ValueError(
                f"'{value}' is not a country the holidays package knows; use an ISO code like NL"
            )
        return value.upper()

    def week(self) -> dict[int, list[tuple[int, int]]]:
        """Weekday (0 = Monday) → sorted spans in minutes after local midnight."""
        return {i: sorted(parse_span(s) for s in getattr(self, day)) for i, day in enumerate(WEEKDAYS)}


class SlaSettings(_Strict):
    """``[inboxes.NAME.sla]``: promises to customers; each target optional."""

    first_response: str | None = Field(None, description="from the first customer message to our first reply")
    next_response: str | None = Field(None, description="from each later customer message to our next reply")
    resolution: str | None = Field(None, description="from opening (or reopening) to close")
    warn_before: str | None = Field(None, description="remind this long before a breach, e.g. 15m")
    warn_at_percent: int | None = Field(
        None, ge=1, le=99, description="or remind at this share of the target"
    )
    on_call: str | None = Field(
        None, description="who is mentioned when nobody is assigned (user, group, role)"
    )
    escalation_channel: str | None = Field(
        None, description="breach notices also go to this chat channel (on the inbox's surface)"
    )

    @field_validator("first_response", "next_response", "resolution", "warn_before")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)

    @model_validator(mode="after")
    def _one_warning(self) -> SlaSettings:
        if self.warn_before is not None and self.warn_at_percent is not None:
            raise ValueError("set warn_before or warn_at_percent, not both")
        return self


class DigestSettings(_Strict):
    """``[digests.NAME]``: a summary posted to a chat channel on a cron schedule."""

    surface: Literal["local", "slack", "discord"] = "local"
    chat_channel: str = Field(description="where the digest is posted")
    cron: str = Field("0 9 * * mon-fri", description="crontab: minute hour day month weekday")
    timezone: str = "UTC"
    inboxes: list[str] = Field(default_factory=list, description="which inboxes; empty = all")
    oldest: int = Field(5, ge=0, le=25, description="how many of the longest-waiting conversations to list")
    chart: bool = Field(False, description="attach a chart: opened per day and channel, first-response times")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                f"'{value}' is not a crontab expression ({exc}); e.g. '0 9 * * mon-fri'"
            ) from None
        return value
