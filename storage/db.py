"""The database handle: async engine, transactions, and URL handling for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.repository import Repository

__all__ = ["Conflict", "DatabaseUnavailable", "Store", "async_url", "sync_url"]


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message says which and what to check."""


class Conflict(Exception):  # noqa: N818 - names the situation
    """A concurrent writer got there first (a unique constraint); the unit of work may be retried."""


def async_url(url: str) -> str:
    """Turn a configured URL into one with an asyncio driver (aiosqlite, psycopg)."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.drivername.startswith("postgresql"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:/// or postgresql://"
    )


def sync_url(url: str) -> str:
    """Turn a configured URL into one with a blocking driver, for Alembic."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Owns the engine; hands out repositories bound to one transaction each.

    SQLite allows one writer at a time; write transactions of this process are
    serialised with a lock so they queue instead of failing with "database is locked".
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        """One unit of work: commits when the block ends, rolls back on an exception."""
        if self._write_lock is not None:
            async with self._write_lock, self._session() as repo:
                yield repo
        else:
            async with self._session() as repo:
                yield repo

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Repository]:
        try:
            async with self._sessions() as session, session.begin():
                yield Repository(session, dialect=self.engine.dialect.name)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)[:300]) from exc
        except OperationalError as exc:
            raise DatabaseUnavailable(
                f"database error ({exc.orig.__class__.__name__ if exc.orig else 'unknown'}): "
                "check that the database in threadline.database_url is running and reachable"
            ) from exc

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.transaction() as repo:
                await repo.ping()
            return True
        except DatabaseUnavailable:
            return False

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        await self.engine.dispose()
