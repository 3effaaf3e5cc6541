"""The database handle: async engine, transactions, and URL handling for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from storage.inline import InlineSession
from storage.staged import StagingSession
from storage.threaded import ThreadedSession
from storage.unit_of_work import UnitOfWork

__all__ = ["Conflict", "DatabaseUnavailable", "Store", "async_url", "sync_url"]


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message says which and what to check."""

    @classmethod
    def of(cls, exc: BaseException) -> DatabaseUnavailable:
        """The one-line error every part of Threadline gives when the database fails under it."""
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        return cls(
            f"cannot reach the database in threadline.database_url ({cause.__class__.__name__}); "
            "check that it is running and the URL is right"
        )


class Conflict(Exception):
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
    cursor.execute("PRAGMA analysis_limit=1000")  # storage.planner: ANALYZE samples, never scans
    cursor.close()


class Store:
    """Owns the engine; hands out units of work, one transaction each.

    SQLite allows one writer at a time; write transactions of this process are
    serialised with a lock so they queue instead of failing with "database is locked".
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        self.dialect = "sqlite" if self.is_sqlite else "postgresql"
        self._async_engine: AsyncEngine | None = None
        self._sync_engine: Engine | None = None
        if self.is_sqlite:
            self._sync_engine = create_engine(sync_url(url), echo=echo)
            event.listen(self._sync_engine, "connect", _sqlite_pragmas)
            self._inline_sessions = sessionmaker(self._sync_engine, expire_on_commit=False)
        else:
            self._async_engine = create_async_engine(
                async_url(url), echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
            self._async_sessions = async_sessionmaker(self._async_engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """One unit of work: commits when the block ends, rolls back on an exception."""
        with self._database_errors():
            if self._write_lock is not None:
                async with self._write_lock:
                    with self._inline_sessions() as session, session.begin():
                        staging = StagingSession(InlineSession(session))  # type: ignore[arg-type]
                        yield UnitOfWork(staging, dialect=self.dialect)
                        await staging.flush()
            else:
                async with self._async_sessions() as async_session, async_session.begin():
                    staging = StagingSession(async_session)
                    yield UnitOfWork(staging, dialect=self.dialect)
                    await staging.flush()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[UnitOfWork]:
        """A read-only unit of work for long reads (digests, reports); it never commits.

        On SQLite its statements run in a worker thread of their own (``storage.threaded``),
        outside the write lock, so the event loop keeps answering while it reads; on
        PostgreSQL the driver is asynchronous already and it is a transaction rolled back at the end.
        """
        with self._database_errors():
            if not self.is_sqlite:
                async with self._async_sessions() as async_session:  # closing it rolls back
                    yield UnitOfWork(StagingSession(async_session), dialect=self.dialect)
                return
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="threadline-read")
            session = ThreadedSession(self._inline_sessions(), executor)
            try:
                yield UnitOfWork(StagingSession(session), dialect=self.dialect)  # type: ignore[arg-type]
            finally:
                await session.call(session.sync_session.close)  # rolls back and returns the connection
                executor.shutdown(wait=False)

    @staticmethod
    @contextmanager
    def _database_errors() -> Iterator[None]:
        """The driver's errors as Threadline's: a unique conflict, or the database not answering."""
        try:
            yield
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)[:300]) from exc
        except (OperationalError, InterfaceError) as exc:  # refused, dropped or closed connections
            raise DatabaseUnavailable.of(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable.of(exc) from exc
            raise

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.transaction() as uow:
                await uow.ping()
            return True
        except DatabaseUnavailable:
            return False

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        if self._async_engine is not None:
            await self._async_engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
