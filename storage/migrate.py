"""Schema migrations with Alembic: ``threadline db upgrade``; SQLite upgrades itself on start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from storage.db import DatabaseUnavailable, sync_url

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _upgrade_sync(url: str, on_step: Callable[[int, int], None] | None) -> None:
    _ensure_sqlite_dir(url)
    config = alembic_config(url)
    if on_step is not None:
        script = ScriptDirectory.from_config(config)
        total = len(list(script.iterate_revisions("heads", _current_sync(url) or "base")))
        done = 0

        def applied(**_: Any) -> None:  # alembic's on_version_apply hook, once per migration step
            nonlocal done
            done += 1
            on_step(done, total)

        config.attributes["on_version_apply"] = applied  # read by migrations/env.py
    command.upgrade(config, "head")


async def upgrade(url: str, on_step: Callable[[int, int], None] | None = None) -> None:
    """Bring the database at ``url`` to the newest schema; ``on_step(done, total)`` after each migration.

    ``DatabaseUnavailable`` when the database cannot be reached.
    """
    try:
        await asyncio.to_thread(_upgrade_sync, url, on_step)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable.of(exc) from exc


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current_sync(url: str) -> str | None:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None when empty); ``DatabaseUnavailable`` when it
    cannot be reached."""
    try:
        return await asyncio.to_thread(_current_sync, url)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable.of(exc) from exc
