"""What every part of the repository shares: the session of one unit of work and the dialect."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["RepositoryBase"]


class RepositoryBase:
    """Holds the session (an ``AsyncSession``, or the inline SQLite one) and the dialect name."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect
