"""Backups of the database while Threadline runs: SQLite's online backup, ``pg_dump`` for PostgreSQL.

A SQLite backup copies page by page through SQLite's backup API, so writers may go on meanwhile
and the copy is one consistent snapshot. A PostgreSQL backup is ``pg_dump``'s custom format
(one consistent snapshot too), restored with ``pg_restore``; docs/backup.md has both restores.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["BackupFailed", "BackupResult", "backup_database"]

Progress = Callable[[int, int], None]  # (pages copied, pages in all)


class BackupFailed(Exception):
    """The backup could not be made; the message says why and what to check."""


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where it is and how large."""

    path: Path
    size: int
    kind: str  # "sqlite" | "pg_dump"


async def backup_database(url: str, target: Path, progress: Progress | None = None) -> BackupResult:
    """Write a consistent backup of the database at ``url`` to ``target`` (never over an existing file)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return await asyncio.to_thread(_sqlite_backup, parsed.database or "", target, progress)
    if parsed.drivername.startswith("postgresql"):
        await asyncio.to_thread(_fresh, target)
        await _pg_dump(parsed.set(drivername="postgresql").render_as_string(hide_password=False), target)
        return await asyncio.to_thread(_result, target, "pg_dump")
    raise BackupFailed(f"cannot back up a {parsed.drivername} database; use sqlite:/// or postgresql://")


def _fresh(target: Path) -> None:
    if target.exists():
        raise BackupFailed(f"{target} exists already; name a new file (backups never overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)


def _result(target: Path, kind: str) -> BackupResult:
    if not target.is_file():
        raise BackupFailed(f"no backup was written to {target}")
    return BackupResult(target, target.stat().st_size, kind)


def _sqlite_backup(database: str, target: Path, progress: Progress | None) -> BackupResult:
    if not database or database == ":memory:" or not Path(database).is_file():
        raise BackupFailed(f"no SQLite database at '{database}'; check threadline.database_url")
    _fresh(target)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source.backup(copy, pages=256, progress=step)
    except sqlite3.Error as exc:
        copy.close()
        target.unlink(missing_ok=True)
        raise BackupFailed(f"SQLite backup failed: {exc}") from None
    finally:
        source.close()
    copy.close()
    return _result(target, "sqlite")


async def _pg_dump(url: str, target: Path) -> None:
    binary = shutil.which("pg_dump")
    if binary is None:
        raise BackupFailed("pg_dump is not installed; install PostgreSQL's client tools (postgresql-client)")
    process = await asyncio.create_subprocess_exec(
        binary,
        "--format=custom",
        "--no-owner",
        f"--file={target}",
        f"--dbname={url}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        await asyncio.to_thread(target.unlink, missing_ok=True)
        reason = errors.decode("utf-8", "replace").strip().splitlines()
        raise BackupFailed(f"pg_dump failed: {reason[-1] if reason else f'exit {process.returncode}'}")
