"""Where conversations live on surfaces: their threads, and the items posted into them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, select

from storage.models import (
    OutboxRow,
    ThreadRow,
)
from storage.repo_base import RepositoryBase

__all__ = ["NewThread", "ThreadRepository"]

_THREADS = cast(Table, ThreadRow.__table__)
# built once: the outbox's group commit stores threads many times a second
_REPLACED = delete(_THREADS).where(
    _THREADS.c.surface == bindparam("surface"),
    _THREADS.c.conversation_id.in_(bindparam("ids", expanding=True)),
)
_INSERT = _THREADS.insert()


class NewThread(NamedTuple):
    """A conversation's thread on a surface, as a delivery opened it (stored by ``save_threads``)."""

    conversation_id: int
    surface: str
    chat_channel: str
    thread_id: str
    card_id: str


class ThreadRepository(RepositoryBase):
    """Threads of conversations on surfaces (Core statements: no ORM objects are written)."""

    async def thread_of(self, conversation_id: int, surface: str) -> ThreadRow | None:
        """Where a conversation lives on a surface."""
        stmt = select(ThreadRow).where(
            ThreadRow.conversation_id == conversation_id, ThreadRow.surface == surface
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def threads_of(self, conversation_id: int) -> list[ThreadRow]:
        """Every surface's thread of a conversation, the first opened first."""
        stmt = select(ThreadRow).where(ThreadRow.conversation_id == conversation_id).order_by(ThreadRow.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def save_thread(
        self,
        conversation_id: int,
        surface: str,
        chat_channel: str,
        thread_id: str,
        card_id: str,
        now: datetime,
    ) -> None:
        """Record (or replace) a conversation's thread on a surface."""
        await self.save_threads([NewThread(conversation_id, surface, chat_channel, thread_id, card_id)], now)

    async def save_threads(self, threads: Sequence[NewThread], now: datetime) -> None:
        """Record (or replace) threads: one DELETE per surface and one INSERT for all (no ORM objects)."""
        if not threads:
            return
        by_surface: dict[str, list[int]] = {}
        for thread in threads:
            by_surface.setdefault(thread.surface, []).append(thread.conversation_id)
        for surface, conversation_ids in by_surface.items():  # usually one surface
            await self.session.execute(_REPLACED, {"surface": surface, "ids": conversation_ids})
        await self.session.execute(_INSERT, [{**t._asdict(), "created_at": now} for t in threads])

    async def forget_thread(self, conversation_id: int, surface: str) -> None:
        """Drop a thread the platform says is gone, so it is recreated."""
        await self.session.execute(
            delete(_THREADS).where(
                _THREADS.c.conversation_id == conversation_id, _THREADS.c.surface == surface
            )
        )

    async def mirrored_items(self, conversation_ids: list[int]) -> list[tuple[int, str, str, str, str]]:
        """(conversation id, surface, chat channel, thread id, item id) of every message posted into
        these threads."""
        ids = conversation_ids or [-1]
        threads = {
            (t.conversation_id, t.surface): t
            for t in (await self.session.execute(select(ThreadRow).where(ThreadRow.conversation_id.in_(ids))))
            .scalars()
            .all()
        }
        stmt = select(OutboxRow.conversation_id, OutboxRow.destination, OutboxRow.external_ref).where(
            OutboxRow.conversation_id.in_(ids),
            OutboxRow.destination.like("surface:%"),
            OutboxRow.kind.in_(["post", "notice"]),
            OutboxRow.status == "done",
            OutboxRow.external_ref.is_not(None),
        )
        items = []
        for conversation_id, destination, ref in (await self.session.execute(stmt)).all():
            surface = str(destination).partition(":")[2]
            thread = threads.get((conversation_id, surface))
            if thread is not None and ref != thread.card_id:
                items.append((conversation_id, surface, thread.chat_channel, thread.thread_id, str(ref)))
        return items
