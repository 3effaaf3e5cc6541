"""Canned replies the team saved with ``/template save``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import (
    CannedTemplate,
)
from storage.repo_base import RepositoryBase

__all__ = ["TemplateRepository"]


class TemplateRepository(RepositoryBase):
    """Saved canned replies by name (case-insensitive)."""

    async def saved_template(self, name: str) -> CannedTemplate | None:
        """A saved canned reply by name (case-insensitive)."""
        stmt = select(CannedTemplate).where(CannedTemplate.key == name.lower())
        return (await self.session.execute(stmt)).scalars().first()

    async def saved_templates(self) -> list[CannedTemplate]:
        """Every saved canned reply, by name."""
        stmt = select(CannedTemplate).order_by(CannedTemplate.key)
        return list((await self.session.execute(stmt)).scalars().all())

    async def save_template(self, name: str, body: str, author: str, now: datetime) -> bool:
        """Save (or replace) a canned reply; True when it was new."""
        found = await self.saved_template(name)
        if found is None:
            self.session.add(
                CannedTemplate(key=name.lower(), name=name, body=body, created_by=author, created_at=now)
            )
            return True
        found.body, found.created_by, found.created_at = body, author, now
        return False
