"""Slack's wire text decoded once into plain text: every control sequence and entity Slack sends."""

from __future__ import annotations

import pytest

from adapters.slack.wire import decode, unnamed_users
from testkit.slack.payloads import as_slack_sends

CASES = [
    ("Fish & chips <https://x.example/?a=1&b=2|here>", "Fish & chips here (https://x.example/?a=1&b=2)"),
    ("see <https://x.example/a>", "see https://x.example/a"),
    ("see <https://x.example|x.example>", "see https://x.example"),
    ("mail <mailto:a@b.example|a@b.example>", "mail a@b.example"),
    ("mail <mailto:a@b.example|Ann>", "mail Ann (a@b.example)"),
    ("in <#C123|support> and <#C9>", "in #support and #C9"),
    ("ask <@UBOB> or <@UALICE|alice>", "ask @Bob or @alice"),
    ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
    ("<!subteam^S1|@billing> <!subteam^S2>", "@billing @S2"),
    ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ("1 < 2 && 3 > 2, &amp; literally", "1 < 2 && 3 > 2, &amp; literally"),
    ("*bold* _it_ `code`", "*bold* _it_ `code`"),
]


@pytest.mark.parametrize(("typed", "plain"), CASES)
def test_wire_text_decodes_to_what_the_agent_meant(typed: str, plain: str) -> None:
    assert decode(as_slack_sends(typed), {"UBOB": "Bob"}) == plain


def test_assign_keeps_user_ids_and_names_are_looked_up_only_when_missing() -> None:
    assert decode(as_slack_sends("assign #4 <@UBOB|bob>"), user_ids=True) == "assign #4 @UBOB"
    assert unnamed_users("<@UBOB> <@UBOB> <@UALICE|alice> <@W7>") == ["UBOB", "W7"]
