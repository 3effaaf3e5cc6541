"""The fingerprint of the card last sent for each conversation on each surface.

A card edit whose fingerprint equals the stored one would change nothing on the platform, so the
outbox skips it (no request, no rate-limit token). Written after a card is created or edited.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import ForeignKey, Insert, String, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId
from storage.repo_base import RepositoryBase
from storage.types import UTCDateTime

__all__ = ["CardFingerprintRow", "CardKey", "CardRepository"]


class CardFingerprintRow(Base):
    """The fingerprint of the card of one conversation as last sent to one surface."""

    __tablename__ = "card_fingerprints"
    surface: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


_CARDS = cast(Table, CardFingerprintRow.__table__)

_BY_SURFACE = select(_CARDS.c.surface, _CARDS.c.conversation_id, _CARDS.c.fingerprint).where(
    _CARDS.c.surface == bindparam("surface"), _CARDS.c.conversation_id.in_(bindparam("ids", expanding=True))
)


@cache
def _upsert(dialect: str) -> Insert:
    """Store a card's fingerprint, replacing the one before (built once per dialect)."""
    stmt = pg_insert(_CARDS) if dialect == "postgresql" else sqlite_insert(_CARDS)
    return stmt.on_conflict_do_update(
        index_elements=[_CARDS.c.surface, _CARDS.c.conversation_id],
        set_={"fingerprint": stmt.excluded.fingerprint, "updated_at": stmt.excluded.updated_at},
    )


CardKey = tuple[str, int]
"""Whose card a fingerprint is: (surface, conversation id)."""


class CardRepository(RepositoryBase):
    """Card fingerprints, read before an edit and written after a send (Core statements)."""

    async def fingerprint(self, surface: str, conversation_id: int) -> str | None:
        """The fingerprint of the card last sent for a conversation to a surface, if any."""
        stmt = select(_CARDS.c.fingerprint).where(
            _CARDS.c.surface == surface, _CARDS.c.conversation_id == conversation_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def fingerprints_of(self, keys: Collection[CardKey]) -> dict[CardKey, str]:
        """The fingerprints of the cards last sent, by (surface, conversation id): a statement per surface."""
        if not keys:
            return {}
        by_surface: dict[str, list[int]] = {}
        for surface, conversation_id in keys:
            by_surface.setdefault(surface, []).append(conversation_id)
        found: dict[CardKey, str] = {}
        for surface, ids in by_surface.items():  # usually one surface
            params = {"surface": surface, "ids": sorted(ids)}
            for s, c, f in (await self.session.execute(_BY_SURFACE, params)).all():
                found[(str(s), int(c))] = str(f)
        return found

    async def save_fingerprint(
        self, surface: str, conversation_id: int, fingerprint: str, now: datetime
    ) -> None:
        """Store the fingerprint of the card just sent."""
        await self.save_fingerprints({(surface, conversation_id): fingerprint}, now)

    async def save_fingerprints(self, fingerprints: Mapping[CardKey, str], now: datetime) -> None:
        """Store the fingerprints of cards just sent: one INSERT … ON CONFLICT for all."""
        if not fingerprints:
            return
        rows = [
            {
                "surface": surface,
                "conversation_id": conversation_id,
                "fingerprint": fingerprint,
                "updated_at": now,
            }
            for (surface, conversation_id), fingerprint in sorted(fingerprints.items())
        ]
        await self.session.execute(_upsert(self.dialect), rows)
