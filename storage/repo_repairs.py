"""Repository queries of mirror repair: conversations whose mirror a surface refused, and their rows.

A permanent refusal (the bot not in the channel, a revoked token) marks the conversation in
``mirror_repairs`` under the refusal's scope; its later outbox rows to that surface are
``parked`` (not delivered). Re-mirroring marks the rows it replaces ``superseded``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ForeignKey, Index, String, Table, Text, UniqueConstraint, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, Conversation, OutboxRow
from storage.repo_base import RepositoryBase
from storage.types import UTCDateTime

__all__ = ["PARKED", "SUPERSEDED", "BrokenScope", "MirrorRepair", "RepairRepository"]

PARKED = "parked"
"""Outbox status of a row held back while its conversation's mirror needs repair."""
SUPERSEDED = "superseded"
"""Outbox status of a row a re-mirror replaced: it is never delivered."""


class MirrorRepair(Base):
    """A conversation whose mirror on a surface needs repair: a permanent refusal in ``scope``.

    ``scope`` is the chat channel the refusal named, or ``*`` for the whole surface (a bad token).
    While the row exists the conversation's deliveries to the surface are parked; when the scope
    works again the conversation is re-mirrored (``bot.outbox.remirror``) and the row removed.
    """

    __tablename__ = "mirror_repairs"
    __table_args__ = (
        UniqueConstraint("conversation_id", "surface", name="uq_mirror_repair_conversation"),
        Index("ix_mirror_repair_scope", "surface", "scope"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    surface: Mapped[str] = mapped_column(String(20), nullable=False)
    scope: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


_REPAIRS = cast(Table, MirrorRepair.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)
_UNDELIVERED = ("pending", "failed", PARKED)


@dataclass(frozen=True)
class BrokenScope:
    """A surface scope (a chat channel, or ``*`` for the whole surface) with conversations to repair."""

    surface: str
    scope: str
    reason: str
    conversations: int


class RepairRepository(RepositoryBase):
    """Which mirrors need repair, and the outbox rows a re-mirror reads and replaces."""

    async def mark_repair(
        self, conversation_id: int, surface: str, scope: str, reason: str, now: datetime
    ) -> bool:
        """Mark a conversation's mirror on ``surface`` as needing repair; True when ``scope`` was
        not broken before (the team is told once per broken scope)."""
        known = await self.session.execute(
            select(_REPAIRS.c.conversation_id).where(_REPAIRS.c.surface == surface, _REPAIRS.c.scope == scope)
        )
        first = known.first() is None
        insert = sqlite_insert if self.dialect == "sqlite" else postgresql_insert
        stmt = insert(_REPAIRS).values(
            conversation_id=conversation_id,
            surface=surface,
            scope=scope,
            reason=reason[:2000],
            created_at=now,
        )  # two instances marking one conversation at once: the second changes nothing
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["conversation_id", "surface"]))
        return first

    async def needs_repair(self, conversation_id: int, surface: str) -> bool:
        """True while the conversation's mirror on ``surface`` waits for repair."""
        stmt = select(_REPAIRS.c.id).where(
            _REPAIRS.c.conversation_id == conversation_id, _REPAIRS.c.surface == surface
        )
        return (await self.session.execute(stmt)).first() is not None

    async def broken_scopes(self) -> list[BrokenScope]:
        """Every broken scope with its reason and how many conversations wait for it."""
        stmt = (
            select(_REPAIRS.c.surface, _REPAIRS.c.scope, func.min(_REPAIRS.c.reason), func.count())
            .group_by(_REPAIRS.c.surface, _REPAIRS.c.scope)
            .order_by(_REPAIRS.c.surface, _REPAIRS.c.scope)
        )
        rows = (await self.session.execute(stmt)).all()
        return [BrokenScope(str(s), str(sc), str(r), int(n)) for s, sc, r, n in rows]

    async def take_repairs(self, surface: str, scope: str) -> list[int]:
        """Remove the repairs of one scope and return their conversation ids (to re-mirror now)."""
        where = (_REPAIRS.c.surface == surface, _REPAIRS.c.scope == scope)
        stmt = select(_REPAIRS.c.conversation_id).where(*where)
        if self.dialect == "postgresql":  # two instances healing one scope: the second finds nothing left
            stmt = stmt.with_for_update()
        ids = [int(i) for i in (await self.session.execute(stmt)).scalars().all()]
        await self.session.execute(delete(_REPAIRS).where(*where))
        return sorted(ids)

    async def drop_repair(self, conversation_id: int, surface: str) -> None:
        """Forget a conversation's repair (it is being re-mirrored on demand)."""
        await self.session.execute(
            delete(_REPAIRS).where(
                _REPAIRS.c.conversation_id == conversation_id, _REPAIRS.c.surface == surface
            )
        )

    async def lock_mirror(self, conversation_id: int) -> None:
        """Hold the conversation's row lock until this unit of work ends: two instances re-mirroring one
        conversation take turns (PostgreSQL; SQLite has one writer at a time anyway)."""
        if self.dialect == "postgresql":
            stmt = select(Conversation.id).where(Conversation.id == conversation_id).with_for_update()
            await self.session.execute(stmt)

    async def conversations_for_resync(self, numbers: list[int] | None) -> list[Conversation]:
        """The conversations with these numbers (every one for ``None``), by number."""
        stmt = select(Conversation).order_by(Conversation.number)
        if numbers is not None:
            stmt = stmt.where(Conversation.number.in_(numbers))
        return list((await self.session.execute(stmt)).scalars().all())

    async def park(self, row_id: int, reason: str) -> None:
        """Hold a row back: its conversation's mirror needs repair (re-mirroring replaces it)."""
        await self.session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id == row_id).values(status=PARKED, last_error=reason[:2000])
        )

    async def mirror_rows(self, conversation_id: int, destination: str) -> list[OutboxRow]:
        """Every outbox row of a conversation to one surface, oldest first."""
        stmt = (
            select(OutboxRow)
            .where(OutboxRow.conversation_id == conversation_id, OutboxRow.destination == destination)
            .order_by(OutboxRow.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def supersede(self, row_ids: Collection[int]) -> None:
        """Mark rows a re-mirror replaces: they are never delivered (nor posted twice)."""
        if row_ids:
            await self.session.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id.in_(list(row_ids)), _OUTBOX.c.status.in_(_UNDELIVERED))
                .values(status=SUPERSEDED)
            )
