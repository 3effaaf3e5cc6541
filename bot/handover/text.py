"""The deterministic hand-over summary: the facts in five short lines, the same every time."""

from __future__ import annotations

from datetime import datetime

from bot.handover.facts import HandoverFacts
from bot.humanize import duration_text

__all__ = ["render"]


def _ago(then: datetime, now: datetime) -> str:
    return f"{duration_text(max((now - then).total_seconds(), 0))} ago"


def render(facts: HandoverFacts) -> str:
    """The summary posted in the thread (plain text; surfaces escape it)."""
    earlier = facts.earlier_conversations
    history = "first conversation" if not earlier else f"{earlier} earlier conversation{'s' * (earlier != 1)}"
    lines = [f"Hand-over #{facts.number}: {facts.customer} ({facts.channel}; {history})"]
    asked = f"“{facts.subject}”: {facts.asked}" if facts.subject else facts.asked
    lines.append(f"Asked: {asked or '(no message)'}")
    if facts.waiting_since is not None:
        waited = duration_text(max((facts.now - facts.waiting_since).total_seconds(), 0))
        lines.append(f"Waiting: {waited} for an answer")
    else:
        lines.append(f"Waiting: no (open {duration_text((facts.now - facts.opened_at).total_seconds())})")
    if facts.promises:
        said = "; ".join(f"“{p.text}” ({p.author}, {_ago(p.at, facts.now)})" for p in facts.promises)
        lines.append(f"Promised, still open: {said}")
    else:
        lines.append("Promised, still open: nothing")
    if facts.last_customer_at is not None:
        lines.append(
            f"Last from the customer ({_ago(facts.last_customer_at, facts.now)}): {facts.last_customer}"
        )
    return "\n".join(lines)
