"""Rule conditions: does a rule match an inbound message, and why (pure, no database).

Text comparisons are case-insensitive with Unicode case folding (``Straße`` matches
``STRASSE``), and work for any language and script: keywords are substrings, regexes
run with ``re.IGNORECASE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.ports.inbound import InboundMessage
from bot.settings.rules import RuleSettings

__all__ = ["Match", "evaluate", "sender_domain"]


@dataclass(frozen=True)
class Match:
    """The outcome of one rule on one message: whether it fires and the reasons (or the failed check)."""

    rule: RuleSettings
    fired: bool
    reasons: tuple[str, ...]


def sender_domain(address: str) -> str:
    """The domain of an email address (empty for a phone number)."""
    return address.rpartition("@")[2].strip().lower() if "@" in address else ""


def _fold(text: str | None) -> str:
    return (text or "").casefold()


def _keyword(haystack: str, words: list[str]) -> str | None:
    folded = _fold(haystack)
    return next((w for w in words if _fold(w) and _fold(w) in folded), None)


def _address_matches(sender: str, wanted: str) -> bool:
    if "@" in wanted or "@" in sender:
        return sender.strip().lower() == wanted.strip().lower()
    digits = "".join(ch for ch in sender if ch.isdigit())
    return bool(digits) and digits == "".join(ch for ch in wanted if ch.isdigit())


def evaluate(rule: RuleSettings, msg: InboundMessage, *, inbox: str | None = None) -> Match:
    """Check every condition of ``rule`` against ``msg``; the first failure says why not."""
    reasons: list[str] = []
    inbox = inbox or msg.inbox

    def fail(why: str) -> Match:
        return Match(rule, False, (why,))

    if not rule.enabled:
        return fail("disabled")
    if rule.channel:
        if msg.channel not in rule.channel:
            return fail(f"channel is {msg.channel}, not {' or '.join(rule.channel)}")
        reasons.append(f"channel {msg.channel}")
    if rule.inbox:
        if inbox not in rule.inbox:
            return fail(f"inbox is {inbox}, not {' or '.join(rule.inbox)}")
        reasons.append(f"inbox {inbox}")
    if rule.sender:
        hit = next((s for s in rule.sender if _address_matches(msg.sender_address, s)), None)
        if hit is None:
            return fail("sender is not one of the listed senders")
        reasons.append(f"sender is {hit}")
    if rule.sender_domain:
        domain = sender_domain(msg.sender_address)
        hit = next(
            (
                d
                for d in rule.sender_domain
                if domain and (domain == d.lower() or domain.endswith("." + d.lower()))
            ),
            None,
        )
        if hit is None:
            return fail(f"sender domain {domain or '(none)'} is not {' or '.join(rule.sender_domain)}")
        reasons.append(f"sender domain {domain} matches {hit}")
    for field, words, text in (
        ("subject", rule.subject_contains, msg.subject or ""),
        ("body", rule.body_contains, msg.text),
        ("subject or body", rule.text_contains, f"{msg.subject or ''}\n{msg.text}"),
    ):
        if words:
            hit = _keyword(text, words)
            if hit is None:
                return fail(f"{field} contains none of: {', '.join(words)}")
            reasons.append(f"{field} contains '{hit}'")
    for field, pattern, text in (
        ("subject", rule.subject_regex, msg.subject or ""),
        ("body", rule.body_regex, msg.text),
    ):
        if pattern is not None:
            found = re.search(pattern, text, re.IGNORECASE)
            if found is None:
                return fail(f"{field} does not match /{pattern}/")
            reasons.append(f"{field} matches /{pattern}/ ('{found.group(0)[:40]}')")
    return Match(rule, True, tuple(reasons) or ("no conditions: matches every message",))
