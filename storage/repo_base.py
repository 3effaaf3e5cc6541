"""What every repository shares: the session of one unit of work and the dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.staged import StagingSession

__all__ = ["RepositoryBase"]


class RepositoryBase:
    """Holds the session (over an ``AsyncSession``, or the inline SQLite one) and the dialect name."""

    def __init__(self, session: StagingSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def _insert(self, model: Any) -> Any:
        """An INSERT of ``model`` in this dialect (for its ``ON CONFLICT`` clauses)."""
        return pg_insert(model) if self.dialect == "postgresql" else sqlite_insert(model)
