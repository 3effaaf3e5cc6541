"""SLA clocks: business hours, due times, reminders and the away message (core; no platform imports)."""

from bot.sla.calendar import BusinessCalendar
from bot.sla.clock import CUSTOMER, REOPENED, REPLIED, recompute, sla_due_of
from bot.sla.policy import SlaPolicy, calendar_for, policy_for

__all__ = [
    "CUSTOMER",
    "REOPENED",
    "REPLIED",
    "BusinessCalendar",
    "SlaPolicy",
    "calendar_for",
    "policy_for",
    "recompute",
    "sla_due_of",
]
