"""What was sent of each outbound message, part by part, and how long outbox rows waited on rate limits.

``send_records``: one row per part of a reply the transport accepted (a long WhatsApp reply is
several messages, each with its wamid; an email is part 0 with its Message-ID), written as soon
as the part is accepted, so a retry after a crash or restart sends only what is missing.
``outbox_waits``: per outbox row, how many rate-limit answers it got, since when it has been
waiting, and when the "queued" notice was written (so it is written once, across restarts).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import ForeignKey, Integer, String, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Message
from storage.repo_base import RepositoryBase
from storage.types import UTCDateTime

__all__ = ["OutboxWaitRow", "SendRecordRow", "SendRepository"]


class SendRecordRow(Base):
    """One part of an outbound message that the transport accepted, with its external id."""

    __tablename__ = "send_records"
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    external_id: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class OutboxWaitRow(Base):
    """The rate-limit waits of one outbox row."""

    __tablename__ = "outbox_waits"
    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    rate_limits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    limited_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    queued_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_RECORDS = cast(Table, SendRecordRow.__table__)
_WAITS_OF = select(OutboxWaitRow).where(OutboxWaitRow.outbox_id.in_(bindparam("ids", expanding=True)))


class SendRepository(RepositoryBase):
    """Send records and rate-limit waits."""

    async def sent_parts(self, message_id: int) -> dict[int, str]:
        """The parts of a message already sent: part number -> external id."""
        stmt = select(_RECORDS.c.part, _RECORDS.c.external_id).where(_RECORDS.c.message_id == message_id)
        return {int(part): str(external) for part, external in (await self.session.execute(stmt)).all()}

    async def record_part(self, message_id: int, part: int, external_id: str, now: datetime) -> None:
        """Record a sent part (once: recording it again keeps the first id)."""
        insert = sqlite_insert if self.dialect == "sqlite" else postgresql_insert
        stmt = insert(_RECORDS).values(
            message_id=message_id, part=part, external_id=external_id, created_at=now
        )
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["message_id", "part"]))

    async def message_with_external_id(self, channel: str, external_id: str) -> int | None:
        """The id of the message that already carries ``external_id`` on ``channel``, if any."""
        stmt = select(Message.id).where(Message.channel == channel, Message.external_id == external_id)
        found = (await self.session.execute(stmt)).scalars().first()
        return None if found is None else int(found)

    async def outbox_wait(self, outbox_id: int) -> OutboxWaitRow | None:
        """The rate-limit waits of an outbox row, if it ever waited."""
        return await self.session.get(OutboxWaitRow, outbox_id)

    async def outbox_waits_of(self, outbox_ids: Collection[int]) -> dict[int, OutboxWaitRow]:
        """The rate-limit waits of the outbox rows among ``outbox_ids`` that ever waited, by outbox id."""
        if not outbox_ids:
            return {}
        found = await self.session.execute(_WAITS_OF, {"ids": sorted(outbox_ids)})
        return {wait.outbox_id: wait for wait in found.scalars().all()}

    async def count_wait(self, outbox_id: int, now: datetime) -> OutboxWaitRow:
        """Count one more rate-limit answer for an outbox row; its waits row (new on the first one)."""
        wait = await self.outbox_wait(outbox_id)
        if wait is None:
            wait = OutboxWaitRow(outbox_id=outbox_id, rate_limits=0, limited_since=now)
            self.session.add(wait)
        wait.rate_limits += 1
        return wait
