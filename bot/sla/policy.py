"""An inbox's SLA policy and business calendar, built once from its settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.settings.core import InboxSettings
from bot.sla.calendar import BusinessCalendar
from bot.timespec import parse_duration

__all__ = ["SlaPolicy", "calendar_for", "policy_for"]

_CALENDARS: dict[int, tuple[InboxSettings, BusinessCalendar]] = {}
_POLICIES: dict[int, tuple[InboxSettings, SlaPolicy | None]] = {}


@dataclass(frozen=True)
class SlaPolicy:
    """Targets of one inbox (None = no promise), when to warn, and whom to mention when unassigned."""

    calendar: BusinessCalendar
    timezone: str
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    warn_before: timedelta | None = None
    warn_at_percent: int | None = None
    on_call: str | None = None
    escalation_channel: str | None = None

    def warning_after(self, target: timedelta) -> timedelta | None:
        """Business time after the start at which the warning of a ``target`` fires (None: no warning)."""
        if self.warn_before is not None:
            return max(target - self.warn_before, timedelta(0))
        if self.warn_at_percent is not None:
            return target * self.warn_at_percent / 100
        return None


def calendar_for(inbox: InboxSettings) -> BusinessCalendar:
    """The inbox's business calendar (always open without ``business_hours``); cached per settings object."""
    cached = _CALENDARS.get(id(inbox))
    if cached is not None and cached[0] is inbox:
        return cached[1]
    hours = inbox.business_hours
    if hours is None:
        calendar = BusinessCalendar(inbox.zone, None)
    else:
        fixed = set(hours.holidays)
        country = None
        if hours.holiday_country:
            import holidays

            country = holidays.country_holidays(hours.holiday_country, subdiv=hours.holiday_subdivision)

        def is_holiday(day: date) -> bool:
            return day in fixed or (country is not None and day in country)

        calendar = BusinessCalendar(ZoneInfo(hours.timezone or inbox.timezone), hours.week(), is_holiday)
    _CALENDARS[id(inbox)] = (inbox, calendar)
    return calendar


def policy_for(inbox: InboxSettings) -> SlaPolicy | None:
    """The inbox's SLA policy, or None when it promises nothing; cached per settings object."""
    cached = _POLICIES.get(id(inbox))
    if cached is not None and cached[0] is inbox:
        return cached[1]
    sla = inbox.sla
    policy = None
    if sla is not None and (sla.first_response or sla.next_response or sla.resolution):
        hours = inbox.business_hours
        policy = SlaPolicy(
            calendar=calendar_for(inbox),
            timezone=(hours.timezone if hours and hours.timezone else inbox.timezone),
            first_response=parse_duration(sla.first_response) if sla.first_response else None,
            next_response=parse_duration(sla.next_response) if sla.next_response else None,
            resolution=parse_duration(sla.resolution) if sla.resolution else None,
            warn_before=parse_duration(sla.warn_before) if sla.warn_before else None,
            warn_at_percent=sla.warn_at_percent,
            on_call=sla.on_call,
            escalation_channel=sla.escalation_channel,
        )
    _POLICIES[id(inbox)] = (inbox, policy)
    return policy
