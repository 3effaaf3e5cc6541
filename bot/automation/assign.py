"""Auto-assignment to a team: round robin or least-open, skipping agents marked away and agents at
their cap. The choice itself is pure (``pick``); ``assign_team`` reads what it needs through the
batch of rules it fires in (``bot.automation.batch``).

Round robin remembers the last agent picked per team (in the ``counters`` table, so a restart or
a second instance continues the turn) and gives the next turn to the next *available* member after
them: an away agent's share is spread over everyone instead of going to their neighbour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.automation.batch import RuleBatch
from bot.settings.rules import TeamSettings
from storage.models import Agent

__all__ = ["assign_team", "pick"]


def pick(
    members: Sequence[str],
    strategy: str,
    *,
    last: int | None,
    away: set[str],
    open_counts: Mapping[str, int],
    cap: int | None,
) -> int | None:
    """The index in ``members`` of the agent to assign, or None when nobody is available."""
    available = [
        i
        for i, key in enumerate(members)
        if key not in away and (cap is None or open_counts.get(key, 0) < cap)
    ]
    if not available:
        return None
    start = -1 if last is None else last
    order = sorted(available, key=lambda i: (i - start - 1) % len(members))
    if strategy == "least_open":
        return min(order, key=lambda i: open_counts.get(members[i], 0))
    return order[0]


async def assign_team(batch: RuleBatch, team_name: str, team: TeamSettings) -> tuple[Agent | None, str]:
    """Pick an agent of ``team`` and move the turn (stored by ``batch.finish``); (agent, why) — agent
    None when nobody is free."""
    found = await batch.agents(team.members)
    agents: list[Agent] = [found[key] for key in team.members if key in found]
    if not agents:
        return None, f"team {team_name} has no agents yet"
    keys = [a.key for a in agents]
    counts = await batch.open_counts(agents)
    pointer_name = f"team-turn:{team_name}"
    last = await batch.turn(pointer_name)
    index = pick(
        keys,
        team.strategy,
        last=None if last is None else last % len(keys),
        away={a.key for a in agents if a.away},
        open_counts={a.key: counts[a.id] for a in agents},
        cap=team.max_open_per_agent,
    )
    if index is None:
        away = sum(1 for a in agents if a.away)
        return None, f"nobody in team {team_name} is available ({away} away, the rest at their cap)"
    batch.move_turn(pointer_name, index)
    chosen = agents[index]
    return chosen, f"{team.strategy.replace('_', ' ')} in team {team_name}"
