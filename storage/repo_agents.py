"""Agents of the team: found by identity, key or name, kept in step with the configuration, and their load."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, inspect, or_, select

from storage.models import (
    Agent,
    AgentIdentity,
    Conversation,
)
from storage.repo_base import RepositoryBase

__all__ = ["AgentRepository"]


class AgentRepository(RepositoryBase):
    """Agents, their surface identities, and how many open conversations each has."""

    async def agent_by_identity(self, surface: str, external_id: str) -> Agent | None:
        """The agent with this surface user id."""
        stmt = (
            select(Agent)
            .join(AgentIdentity)
            .where(AgentIdentity.surface == surface, AgentIdentity.external_id == external_id)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def agent_by_key(self, key: str) -> Agent | None:
        """The agent with this configured key."""
        return (await self.session.execute(select(Agent).where(Agent.key == key))).scalars().first()

    async def find_agent(self, text: str) -> list[Agent]:
        """Agents whose key, name or any identity equals ``text`` (case-insensitive)."""
        needle = text.lower()
        stmt = (
            select(Agent)
            .outerjoin(AgentIdentity)
            .where(
                or_(
                    func.lower(Agent.key) == needle,
                    func.lower(Agent.name) == needle,
                    func.lower(AgentIdentity.external_id) == needle,
                )
            )
            .distinct()
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def teammates(self, limit: int = 25) -> list[str]:
        """The names of the team (for "did you mean" answers), alphabetically."""
        stmt = select(Agent.name).order_by(Agent.name).limit(limit)
        return list((await self.session.execute(stmt)).scalars().all())

    async def agent(self, agent_id: int) -> Agent:
        """An agent by id (from the unit of work's objects when it was read already)."""
        agent = await self.session.get(Agent, agent_id)
        if agent is None:
            raise LookupError(f"no agent with id {agent_id}")
        return cast(Agent, agent)

    async def upsert_agent(
        self, key: str, name: str, email: str | None, identities: dict[str, str], now: datetime
    ) -> Agent:
        """Create or update an agent and its surface identities."""
        agent = await self.agent_by_key(key)
        if agent is None:
            agent = Agent(key=key, name=name, email=email, away=False, created_at=now)
            self.session.add(agent)
            await self.session.flush()
        else:
            agent.name, agent.email = name, email
        for surface, external_id in identities.items():
            owner = await self.agent_by_identity(surface, external_id)
            if owner is None:
                self.session.add(AgentIdentity(agent_id=agent.id, surface=surface, external_id=external_id))
        await self.session.flush()
        return agent

    async def agent_names(self, agent_ids: Iterable[int]) -> dict[int, str]:
        """Names of agents by id."""
        ids = sorted(set(agent_ids))
        if not ids:
            return {}
        rows = (await self.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))).all()
        return {int(i): str(n) for i, n in rows}

    async def agents_by_keys(self, keys: list[str]) -> list[Agent]:
        """The agents with these keys (unknown keys are left out)."""
        return list((await self.session.execute(select(Agent).where(Agent.key.in_(keys)))).scalars().all())

    async def open_counts(self, agent_ids: list[int]) -> dict[int, int]:
        """How many not-closed conversations each agent has (agents with none are 0), counting the
        changes of this unit of work that are not flushed yet (an ingest batch flushes at its end)."""
        counts = dict.fromkeys(agent_ids, 0)
        if agent_ids:
            stmt = (
                select(Conversation.assignee_id, func.count(Conversation.id))
                .where(Conversation.assignee_id.in_(agent_ids), Conversation.status != "closed")
                .group_by(Conversation.assignee_id)
            )
            for agent_id, count in (await self.session.execute(stmt)).all():
                if agent_id is not None:
                    counts[int(agent_id)] = int(count)
            for conversation in (*self.session.new, *self.session.dirty):
                if isinstance(conversation, Conversation):
                    for agent_id, change in _unflushed_open(conversation):
                        if agent_id in counts:
                            counts[agent_id] += change
        return counts


def _value_before(conversation: Conversation, attribute: str) -> Any:
    """The flushed value of an attribute of a stored conversation."""
    history = inspect(conversation).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


def _unflushed_open(conversation: Conversation) -> list[tuple[int, int]]:
    """How a conversation's unflushed changes move open counts: (agent id, +1 or -1) pairs."""
    moves = []
    if conversation.assignee_id is not None and conversation.status != "closed":
        moves.append((conversation.assignee_id, 1))
    if inspect(conversation).persistent:
        before = _value_before(conversation, "assignee_id")
        if before is not None and _value_before(conversation, "status") != "closed":
            moves.append((int(before), -1))
    return moves
