"""Answers that help: near misses, the prefix each place needs, refusals that say why, whole hints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.commands.grammar import CommandError, names_agents, parse_command
from bot.timespec import TimeSpecError, parse_snooze
from testkit.inbound import email_in
from threadline.app import Threadline


def test_a_near_miss_gets_did_you_mean_with_the_prefix_in_use() -> None:
    with pytest.raises(CommandError) as typed:
        parse_command("!lable +refund", "!")
    assert str(typed.value) == "unknown command 'lable'; did you mean !label? type !help for the commands"
    with pytest.raises(CommandError) as slash:  # a slash or app command has no prefix
        parse_command("lable +refund", "")
    assert "did you mean label? type help" in str(slash.value)
    with pytest.raises(CommandError) as far:
        parse_command("!xyzzy", "!")
    assert str(far.value) == "unknown command 'xyzzy'; type !help for the commands"


def test_snooze_refusals_say_why(clock: ManualClock) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Amsterdam")
    with pytest.raises(TimeSpecError, match="'yesterday' is in the past"):
        parse_snooze("yesterday", clock.now(), zone)
    with pytest.raises(TimeSpecError, match="'someday' is not a snooze time; use snooze 2h"):
        parse_snooze("someday", clock.now(), zone)


async def test_assigning_nobody_lists_the_team_and_guesses(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    n = (await app.ingestor.ingest(email_in(when=clock.now()))).conversation_number
    refused = await local.type_line(f"#{n} !assign @alic", "bob")
    assert not refused.ok
    assert "No teammate '@alic'; did you mean Alice Martin? the team: Alice Martin, Bob Stone" in refused.text


async def test_collision_hint_keeps_the_whole_reply_and_closed_needs_confirmation(
    app: Threadline, clock: ManualClock
) -> None:
    local = app.local
    assert local is not None
    n = (await app.ingestor.ingest(email_in(when=clock.now()))).conversation_number
    assert (await local.type_line(f"#{n} !reply We are on it.", "alice")).ok
    long_text = "Thanks for waiting. " + "The replacement leg ships from the Utrecht warehouse today. " * 3
    second = await local.type_line(f"#{n} !reply {long_text}", "bob")
    assert not second.ok and second.needs_confirmation
    assert second.text.endswith(f"To send yours too: !reply --confirm {long_text.strip()}")

    clock.advance(timedelta(minutes=5))
    assert (await local.type_line(f"#{n} !close", "alice")).ok
    closed = await local.type_line(f"#{n} !reply One more thing", "alice")
    assert not closed.ok and closed.needs_confirmation
    assert closed.text == f"#{n} is closed. To reply anyway: !reply --confirm One more thing"
    assert (await local.type_line(f"#{n} !reply --confirm One more thing", "alice")).ok


@pytest.mark.parametrize(
    ("line", "prefix", "names"),
    [
        ("!assign <@U123>", "!", True),
        ("assign #4 @U123", "", True),
        ("!ASSIGN @bo", "!", True),
        ("!assign", "!", False),  # no one named: a refusal, not a mention
        ("!note ask <@U123> about it", "!", False),
        ("!reply assign it to <@U123>", "!", False),
        ("assignment done <@U123>", "", False),
        ("!claim", "!", False),
    ],
)
def test_the_grammar_says_which_lines_name_agents_by_mention(line: str, prefix: str, names: bool) -> None:
    assert names_agents(line, prefix) is names
