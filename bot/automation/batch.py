"""What the rules of one ingest batch read once and keep: labels, agents, open counts, team turns.

Ingest writes a batch with one flush at its end (``bot.ingest.service``), and a rule that fires
must not flush either, or every firing rule writes the batch row by row. So the rules look each
label, agent, open count and round-robin turn up once per batch, remember which labels they
gave which conversation (stored or staged) and whom they assigned, and write the turns they moved
when the batch ends. (A count per message also grew with the number of open conversations.)
"""

from __future__ import annotations

from storage import UnitOfWork
from storage.models import Agent, Conversation, Label

__all__ = ["RuleBatch"]


class RuleBatch:
    """Lookups and changes of the rules firing in one ingest transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._labels: dict[str, Label] = {}
        self._given: set[tuple[int, int]] = set()  # (id() of the conversation object, label id)
        self._agents: dict[str, Agent | None] = {}
        self._turns: dict[str, int | None] = {}
        self._moved: set[str] = set()
        self._open: dict[int, int] = {}

    async def give_label(self, conversation: Conversation, name: str) -> Label | None:
        """Put label ``name`` (created on first use) on the conversation; the label, or None when it
        was there already."""
        key = name.lower()
        label = self._labels.get(key)
        if label is None:
            label = await self.uow.labels.label(name, create=True)
            assert label is not None
            self._labels[key] = label
        given = (id(conversation), label.id)
        if given in self._given:
            return None
        self._given.add(given)
        return label if await self.uow.labels.set_label(conversation, label.id, True) else None

    async def agents(self, keys: list[str]) -> dict[str, Agent]:
        """The configured agents among ``keys``, by key."""
        missing = [key for key in keys if key not in self._agents]
        if missing:
            found = {a.key: a for a in await self.uow.agents.agents_by_keys(missing)}
            self._agents.update((key, found.get(key)) for key in missing)
        return {key: agent for key in keys if (agent := self._agents[key]) is not None}

    async def open_counts(self, agents: list[Agent]) -> dict[int, int]:
        """How many not-closed conversations each agent has, by agent id: read once per batch, then
        kept current with the batch's own assignments (``assigned``). A conversation of another
        agent that a customer reopens later in the same batch counts from the next batch on."""
        missing = [a.id for a in agents if a.id not in self._open]
        if missing:
            self._open.update(await self.uow.agents.open_counts(missing))
        return {a.id: self._open[a.id] for a in agents}

    def assigned(self, agent: Agent) -> None:
        """A rule of this batch gave ``agent`` one more open conversation."""
        if agent.id in self._open:
            self._open[agent.id] += 1

    async def turn(self, name: str) -> int | None:
        """A stored round-robin position, read (and on PostgreSQL locked) once per batch."""
        if name not in self._turns:
            self._turns[name] = await self.uow.counters.pointer(name)
        return self._turns[name]

    def move_turn(self, name: str, value: int) -> None:
        """Remember a new round-robin position; ``finish`` stores it."""
        self._turns[name] = value
        self._moved.add(name)

    async def finish(self) -> None:
        """Store the turns the batch moved."""
        for name in sorted(self._moved):
            value = self._turns[name]
            assert value is not None
            await self.uow.counters.set_pointer(name, value)
        self._moved.clear()
