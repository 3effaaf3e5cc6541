"""Leases: a named job runs on one instance at a time, until its lease runs out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_

from storage.models import (
    Lease,
)
from storage.repo_base import RepositoryBase

__all__ = ["LeaseRepository"]


class LeaseRepository(RepositoryBase):
    """Taking, renewing and giving up leases (one INSERT … ON CONFLICT each)."""

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease ``name`` until ``until``; False while another holder's lease runs."""
        insert_stmt = self._insert(Lease).values(name=name, holder=holder, expires_at=until)
        stmt = insert_stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": until},
            where=or_(Lease.expires_at <= now, Lease.holder == holder),
        ).returning(Lease.holder)
        return (await self.session.execute(stmt)).first() is not None

    async def release(self, name: str, holder: str) -> None:
        """Give a lease up (only when this holder has it)."""
        await self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    async def release_all(self, holder: str) -> None:
        """Give up every lease ``holder`` has."""
        await self.session.execute(delete(Lease).where(Lease.holder == holder))
