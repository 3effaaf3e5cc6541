"""The intake journal: every inbound delivery (webhook body, Slack envelope), stored raw before its ack.

A row is written ``pending`` by the webhook or listener, in a group-committed
transaction, before the platform gets its 200/ack. The journal worker claims rows
(``claimed_by`` / ``claimed_until``, so a dead instance's claims run out), runs them
through ingest or the command service, and marks them ``done`` in the same transaction
as their effect. A row that keeps failing is ``failed`` with its ``error``, and kept.
``claimed_until`` doubles as "not before" for a row waiting to be retried.

Rows of one source that share an ``ordering_key`` (a Slack channel, a WhatsApp sender) are
claimed only while no earlier row of that key is held by an instance or waiting for its retry,
so they are processed in journal order; on PostgreSQL claims take one advisory lock, so two
instances never claim rows of one key at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.models import Base
from storage.repo_base import RepositoryBase
from storage.types import UTCDateTime

__all__ = ["JournalEntry", "JournalRepository", "JournalRow", "JournalState"]

_ID = BigInteger().with_variant(Integer(), "sqlite")


class JournalState:
    """The states of a journal row."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class JournalEntry(Base):
    """One inbound delivery as received: its source, raw payload, and how far processing got."""

    __tablename__ = "journal"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key", name="uq_journal_source_key"),
        Index("ix_journal_state_id", "state", "id"),
        Index("ix_journal_order", "source", "ordering_key", "id"),
    )
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40), nullable=False)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=JournalState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_TABLE = cast(Table, JournalEntry.__table__)
_CLAIM_LOCK = 0x746C6A6F  # the advisory lock PostgreSQL claims take ("tljo")


class JournalRow(NamedTuple):
    """A delivery to append: its source, dedupe key, ordering key and raw payload."""

    source: str
    key: str | None
    order: str | None
    payload: bytes


class JournalRepository(RepositoryBase):
    """Appending, claiming and finishing journal rows."""

    async def append(self, rows: Sequence[JournalRow], now: datetime) -> None:
        """Insert rows as pending; a dedupe key already journaled for the source is skipped."""
        values = [
            {
                "source": row.source,
                "dedupe_key": row.key,
                "ordering_key": row.order,
                "payload": row.payload,
                "received_at": now,
                "state": JournalState.PENDING,
                "attempts": 0,
            }
            for row in rows
        ]
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = insert(_TABLE).on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
        await self.session.execute(stmt, values)

    async def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[JournalEntry]:
        """Claim up to ``limit`` pending rows, oldest first, that nobody holds (or whose claim ran out).

        A row with an ordering key is passed by while an earlier pending row of its source and key
        is held or waiting for its retry (it goes after that one).
        """
        earlier = aliased(JournalEntry)
        held_before = (
            select(earlier.id)
            .where(
                earlier.source == JournalEntry.source,
                earlier.ordering_key == JournalEntry.ordering_key,
                earlier.id < JournalEntry.id,
                earlier.state == JournalState.PENDING,
                earlier.claimed_until > now,
            )
            .exists()
        )
        stmt = (
            select(JournalEntry)
            .where(
                JournalEntry.state == JournalState.PENDING,
                or_(JournalEntry.claimed_until.is_(None), JournalEntry.claimed_until <= now),
                or_(JournalEntry.ordering_key.is_(None), ~held_before),
            )
            .order_by(JournalEntry.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            # claims one at a time: the next one sees this one's rows as held (lock ends with the transaction)
            await self.session.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            stmt = stmt.with_for_update(skip_locked=True, of=JournalEntry)
        entries = list((await self.session.execute(stmt)).scalars())
        if entries:
            await self.session.execute(
                sql_update(JournalEntry)
                .where(JournalEntry.id.in_([e.id for e in entries]))
                .values(claimed_by=holder, claimed_until=until)
                .execution_options(synchronize_session=False)
            )
        return entries

    async def finish(self, ids: Sequence[int], now: datetime) -> int:
        """Mark pending rows done (a row already done stays as it was); how many changed."""
        if not ids:
            return 0
        result = await self.session.execute(
            sql_update(JournalEntry)
            .where(JournalEntry.id.in_(list(ids)), JournalEntry.state == JournalState.PENDING)
            .values(state=JournalState.DONE, done_at=now, claimed_until=None, error=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    async def defer(self, entry_id: int, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt: retry at ``retry_at``, or (None) give up and keep the row as failed."""
        values: dict[str, object] = {"attempts": JournalEntry.attempts + 1, "error": error[:2000]}
        if retry_at is None:
            values.update(state=JournalState.FAILED, claimed_until=None)
        else:
            values.update(claimed_until=retry_at)
        await self.session.execute(
            sql_update(JournalEntry)
            .where(JournalEntry.id == entry_id, JournalEntry.state == JournalState.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def release(self, holder: str) -> None:
        """Hand back the pending rows ``holder`` claimed and has not retried yet (a clean stop, a restart)."""
        await self.session.execute(
            sql_update(JournalEntry)
            .where(
                JournalEntry.claimed_by == holder,
                JournalEntry.state == JournalState.PENDING,
                JournalEntry.attempts == 0,
            )
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )

    async def release_rows(self, ids: Sequence[int]) -> None:
        """Hand back claimed rows not processed (they waited behind a failed row of their ordering key)."""
        if ids:
            await self.session.execute(
                sql_update(JournalEntry)
                .where(JournalEntry.id.in_(list(ids)), JournalEntry.state == JournalState.PENDING)
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def prune(self, before: datetime) -> int:
        """Delete rows done before ``before`` (failed rows are kept); how many went."""
        result = await self.session.execute(
            sql_delete(JournalEntry)
            .where(JournalEntry.state == JournalState.DONE, JournalEntry.done_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    async def counts(self) -> dict[str, int]:
        """How many rows are in each state."""
        stmt = select(JournalEntry.state, func.count()).group_by(JournalEntry.state)
        return {str(state): int(count) for state, count in (await self.session.execute(stmt)).all()}
