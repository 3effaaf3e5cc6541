"""What every part of the repository shares: the session of one unit of work and the dialect."""

from __future__ import annotations

from storage.staged import StagingSession

__all__ = ["RepositoryBase"]


class RepositoryBase:
    """Holds the session (over an ``AsyncSession``, or the inline SQLite one) and the dialect name."""

    def __init__(self, session: StagingSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect
