"""Each rule condition on its own, case-insensitive and Unicode-aware; ``stop``; what ``explain`` says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.automation import evaluate, explain
from bot.config import ConfigError
from bot.settings.rules import RuleSettings
from testkit.automation import automation_settings
from testkit.inbound import email_in, whatsapp_in

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def rule(**fields: Any) -> RuleSettings:
    """A rule that labels, with the given conditions."""
    return RuleSettings.model_validate({"name": "r", "add_labels": ["x"], **fields})


MAIL = email_in(
    sender="Jane@Shop.Example.org",
    subject="Rückerstattung für Bestellung 1881",
    text="Hallo, die STRASSE war falsch. Заказ не пришёл.",
    when=NOW,
)
CASES = [
    ({"channel": ["email"]}, True),
    ({"channel": ["whatsapp"]}, False),
    ({"inbox": ["support"]}, True),
    ({"inbox": ["whatsapp"]}, False),
    ({"sender": ["jane@shop.example.org"]}, True),
    ({"sender": ["john@shop.example.org"]}, False),
    ({"sender_domain": ["example.org"]}, True),  # a parent domain matches sub-domains
    ({"sender_domain": ["shop.example.org"]}, True),
    ({"sender_domain": ["ample.org"]}, False),  # …but not a mere suffix
    ({"subject_contains": ["RÜCKERSTATTUNG"]}, True),
    ({"subject_contains": ["refund"]}, False),
    ({"body_contains": ["straße"]}, True),  # Unicode case folding: straße == STRASSE
    ({"body_contains": ["ЗАКАЗ"]}, True),  # any script
    ({"body_contains": ["invoice"]}, False),
    ({"text_contains": ["bestellung"]}, True),
    ({"subject_regex": r"bestellung\s+\d{4}"}, True),
    ({"subject_regex": r"^refund"}, False),
    ({"body_regex": r"заказ\s+не"}, True),
    ({"body_regex": r"\bparcel\b"}, False),
    ({"channel": ["email"], "subject_contains": ["refund"]}, False),  # all keys must hold
    ({"subject_contains": ["refund", "rückerstattung"]}, True),  # any value of one key
    ({}, True),
    ({"enabled": False}, False),
]


@pytest.mark.parametrize(("conditions", "fires"), CASES)
def test_each_condition(conditions: dict[str, Any], fires: bool) -> None:
    verdict = evaluate(rule(**conditions), MAIL)
    assert verdict.fired is fires, verdict.reasons
    assert verdict.reasons  # always says why


def test_phone_sender_matches_whatever_the_formatting() -> None:
    msg = whatsapp_in(sender="+31 6 1234 5678", when=NOW)
    assert evaluate(rule(sender=["+31612345678"]), msg).fired
    assert not evaluate(rule(sender=["+31612345679"]), msg).fired
    assert not evaluate(rule(sender_domain=["example.org"]), msg).fired


def test_explain_honours_stop_and_new_conversation_only(tmp_path: Any) -> None:
    extra = """
[[rules]]
name = "vip"
sender_domain = ["example.org"]
add_labels = ["vip"]
stop = true

[[rules]]
name = "later"
add_labels = ["never"]

[[rules]]
name = "every"
applies_to = "every_message"
priority = "high"
"""
    settings = automation_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, extra)
    verdicts = explain(settings, email_in(when=NOW))
    assert [v.fired for v in verdicts] == [True, False, False]
    assert "sender domain example.org matches example.org" in verdicts[0].reasons
    assert "skipped: rule 'vip' fired" in verdicts[1].reasons[0]
    follow_up = explain(settings, email_in(sender="x@other.net", when=NOW), new_conversation=False)
    assert [v.fired for v in follow_up] == [False, False, True]
    assert follow_up[0].reasons == ("applies to new conversations only",)


BAD_RULES = {
    'name = "vip"\nsubject_regex = "order ("\nadd_labels = ["a"]': "(name 'vip'): subject_regex: not a valid",
    'name = "vip"\nsubject_contains = ["x"]': "rules[0] (name 'vip'): the rule does nothing",
    'name = "vip"\nsubjekt_contains = ["x"]\nadd_labels = ["a"]': "(name 'vip'): subjekt_contains: unknown",
    'name = "vip"\npriority = "asap"': "rules[0] (name 'vip'): priority",
    'name = "vip"\nassign = "team:nobody"': "rules[0] (name 'vip'): assign team 'nobody'",
    'name = "vip"\nassign = "zed"': "rules[0] (name 'vip'): assign agent 'zed'",
    'name = "vip"\nauto_reply = "nope"': "rules[0] (name 'vip'): auto_reply template 'nope'",
    'name = "vip"\nroute_to = "sales"': "rules[0] (name 'vip'): route_to inbox 'sales'",
    'name = "vip"\nroute_to = "whatsapp"\napplies_to = "every_message"': "route_to only works",
    'add_labels = ["a"]': "rules[0]: name: required key is missing",
}


@pytest.mark.parametrize(("body", "expected"), BAD_RULES.items())
def test_a_bad_rule_is_a_config_error_naming_it(tmp_path: Any, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        automation_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, "\n[[rules]]\n" + body + "\n")
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_second_bad_rule_is_named_by_index_and_name(tmp_path: Any) -> None:
    extra = (
        '\n[[rules]]\nname = "ok"\nadd_labels = ["a"]\n\n'
        '[[rules]]\nname = "broken"\nbody_regex = "[z"\nnote = "n"\n'
    )
    with pytest.raises(ConfigError) as caught:
        automation_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, extra)
    assert "rules[1] (name 'broken'): body_regex" in str(caught.value)


def test_unknown_template_placeholder_is_a_config_error(tmp_path: Any) -> None:
    extra = '\n[templates.oops]\nbody = "Hi {customer.name}"\n'
    with pytest.raises(ConfigError) as caught:
        automation_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, extra)
    assert "templates.oops.body" in str(caught.value) and "{customer.name}" in str(caught.value)
