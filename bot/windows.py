"""Per-channel reply rules: the customer-service window and approved templates (core, no platform code).

A channel may declare a customer-service window (``ChannelRules.reply_window``, declared by its
adapter): free-form replies only that long after the customer's last message, then only an
approved template. The core checks this *before* anything is queued, so the agent gets an
answer that says how long ago the customer wrote and what to type instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.domain import DomainError
from bot.settings.channel import ApprovedTemplate

__all__ = [
    "TemplateMessage",
    "describe_age",
    "has_window",
    "render_template",
    "template_hint",
    "templates_for",
    "window_refusal",
]


@dataclass(frozen=True)
class TemplateMessage:
    """A template send as the core stores it: the text the thread shows and the message meta."""

    text: str
    meta: dict[str, Any]


def describe_age(delta: timedelta) -> str:
    """A short human duration: ``45 min``, ``3 h``, ``2 d 4 h``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def templates_for(settings: Settings, channel: str) -> dict[str, ApprovedTemplate]:
    """The approved templates declared for a channel (only channels with a reply window have them)."""
    return settings.approved_templates(channel)


def has_window(settings: Settings, channel: str) -> bool:
    """Whether ``channel`` declares a customer-service window (and so approved templates)."""
    return settings.channel_rules(channel).reply_window is not None


def template_hint(settings: Settings, channel: str) -> str:
    """What to type instead of a free-form reply: the template command and the known templates."""
    prefix = settings.threadline.command_prefix
    names = sorted(templates_for(settings, channel))
    known = f" (templates: {', '.join(names)})" if names else " (no templates are configured yet)"
    return f"send an approved template instead: {prefix}template NAME [PARAM …]{known}"


def window_refusal(
    settings: Settings, channel: str, last_inbound_at: datetime | None, now: datetime
) -> str | None:
    """Why a free-form reply may not be sent now, or None when it may."""
    rules = settings.channel_rules(channel)
    window = rules.reply_window
    if window is None:
        return None
    if last_inbound_at is None:
        return (
            f"The customer has not written on {rules.name} yet, so a free-form reply is not allowed: "
            + template_hint(settings, channel)
        )
    since = now - last_inbound_at
    if since <= window:
        return None
    return (
        f"The {rules.name} {describe_age(window)} window closed "
        f"{describe_age(since - window)} ago "
        f"(the customer last wrote {describe_age(since)} ago): " + template_hint(settings, channel)
    )


def render_template(settings: Settings, channel: str, name: str, params: tuple[str, ...]) -> TemplateMessage:
    """Check a template command against the declared templates; raise DomainError saying what to fix."""
    prefix = settings.threadline.command_prefix
    rules = settings.channel_rules(channel)
    if rules.reply_window is None:
        raise DomainError(
            "Templates are a feature of channels with a reply window; "
            f"on {rules.name} just use {prefix}reply."
        )
    templates = templates_for(settings, channel)
    template = templates.get(name)
    if template is None:
        where = f"declare them under [{rules.templates_key}]" if rules.templates_key else "none are declared"
        known = ", ".join(sorted(templates)) or f"none; {where}"
        raise DomainError(f"No template '{name[:60]}'. Known templates: {known}.")
    slots = template.slots()
    if len(params) != len(slots):
        takes = f" ({', '.join(slots)})" if slots else ""
        raise DomainError(
            f"Template '{name}' takes {len(slots)} parameter(s){takes}, you gave {len(params)}; "
            f'quote a parameter that contains spaces: {prefix}template {name} "Jane Doe" …'
        )
    if template.body:
        text = template.body
        first = 1 if template.header else 0
        names = template.named or tuple(str(n) for n in range(1, template.parameters + 1))
        for placeholder, value in zip(names, params[first:], strict=False):
            text = text.replace(f"{{{{{placeholder}}}}}", value)
    else:
        text = f"[template {name}]" + (": " + " · ".join(params) if params else "")
    return TemplateMessage(
        text=text,
        meta={"template": name, "template_params": list(params), "template_language": template.language},
    )
