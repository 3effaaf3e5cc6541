"""Auto-assignment fairness over 1,000 assignments, with agents away and per-agent caps."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from bot.automation import assign_team, pick
from bot.automation.batch import RuleBatch
from bot.clock import ManualClock
from bot.settings.rules import TeamSettings
from testkit.app import started_app
from testkit.automation import automation_settings

MEMBERS = ["alice", "bob", "carol", "dan", "erin"]


def test_round_robin_is_fair_over_1000_with_away_agents() -> None:
    counts: Counter[str] = Counter()
    last = None
    away = {"carol"}
    for turn in range(1000):
        if turn == 500:
            away = {"erin", "bob"}  # carol is back, two others leave
        index = pick(MEMBERS, "round_robin", last=last, away=away, open_counts={}, cap=None)
        assert index is not None and MEMBERS[index] not in away
        counts[MEMBERS[index]] += 1
        last = index
    # first half: 4 available → 125 each; second half: 3 available → 166 or 167 each
    assert counts["carol"] == 166 or counts["carol"] == 167
    assert counts["alice"] in (125 + 166, 125 + 167) and counts["dan"] in (125 + 166, 125 + 167)
    assert counts["bob"] == 125 and counts["erin"] == 125
    assert sum(counts.values()) == 1000


def test_caps_and_least_open_over_1000_assignments() -> None:
    rng = random.Random(8)
    open_now: Counter[str] = Counter()
    given: Counter[str] = Counter()
    last = None
    refused = 0
    for _ in range(1000):
        for agent in list(open_now):  # customers' conversations close now and then
            if open_now[agent] and rng.random() < 0.3:
                open_now[agent] -= 1
        for strategy in ("round_robin", "least_open"):
            index = pick(MEMBERS, strategy, last=last, away={"dan"}, open_counts=open_now, cap=3)
            if index is not None:
                assert open_now[MEMBERS[index]] < 3 and MEMBERS[index] != "dan"
                if strategy == "least_open":
                    assert open_now[MEMBERS[index]] == min(open_now[m] for m in MEMBERS if m != "dan")
        index = pick(MEMBERS, "round_robin", last=last, away={"dan"}, open_counts=open_now, cap=3)
        if index is None:
            refused += 1
            assert all(open_now[m] >= 3 for m in MEMBERS if m != "dan")
            continue
        open_now[MEMBERS[index]] += 1
        given[MEMBERS[index]] += 1
        last = index
        assert max(open_now.values()) <= 3
    assert given["dan"] == 0
    shares = [given[m] for m in MEMBERS if m != "dan"]
    assert max(shares) - min(shares) <= 0.1 * max(shares), given  # within 10 % of each other


def test_nobody_available() -> None:
    assert pick(MEMBERS, "round_robin", last=None, away=set(MEMBERS), open_counts={}, cap=None) is None
    full = dict.fromkeys(MEMBERS, 2)
    assert pick(MEMBERS, "least_open", last=None, away=set(), open_counts=full, cap=2) is None


async def test_turns_are_stored_and_caps_read_from_the_database(tmp_path: Path, clock: ManualClock) -> None:
    extra = '\n[teams.small]\nmembers = ["alice", "bob"]\nmax_open_per_agent = 2\n'
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", extra)
    app = await started_app(settings, clock)
    try:
        from testkit.inbound import email_in

        picked = []
        for n in range(5):
            result = await app.ingestor.ingest(email_in(sender=f"p{n}@example.net", when=clock.now()))
            async with app.store.transaction() as uow:
                conv = await uow.conversations.conversation_by_number(result.conversation_number or 0)
                assert conv is not None
                batch = RuleBatch(uow)
                agent, why = await assign_team(batch, "small", settings.teams["small"])
                await batch.finish()
                if agent is not None:
                    conv.assignee_id = agent.id
                picked.append(agent.key if agent else why)
        assert picked[:4] == ["alice", "bob", "alice", "bob"]
        assert picked[4] == "nobody in team small is available (0 away, the rest at their cap)"
        team = TeamSettings(members=["alice", "bob"], strategy="least_open")
        async with app.store.transaction() as uow:
            agent, _ = await assign_team(RuleBatch(uow), "other", team)
            assert agent is not None and agent.key == "alice"  # 2 each: ties go in member order
    finally:
        await app.stop()
