"""Where conversations live on surfaces: their threads, and the items posted into them."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select

from storage.models import (
    OutboxRow,
    ThreadRow,
)
from storage.repo_base import RepositoryBase

__all__ = ["ThreadRepository"]

_THREADS = cast(Table, ThreadRow.__table__)


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
        """Record (or replace) a conversation's thread on a surface (Core statements: no ORM objects)."""
        await self.forget_thread(conversation_id, surface)
        await self.session.execute(
            _THREADS.insert().values(
                conversation_id=conversation_id,
                surface=surface,
                chat_channel=chat_channel,
                thread_id=thread_id,
                card_id=card_id,
                created_at=now,
            )
        )

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
