"""Shared fixtures: settings, databases (SQLite and the real PostgreSQL), and a running app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.email.dovecot import Dovecot, start_dovecot, stop_dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.schema import SchemaCopies
from testkit.servers import PG_ADMIN_URL, reset_postgres, unavailable
from testkit.settings import make_settings
from testkit.workers import worker_name
from tests.groups import mark_groups
from threadline.app import Threadline


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its group (tests/groups.py): ``pytest -m unit``, ``-m "not crash"``, …"""
    mark_groups(items, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def schema_copies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Empty databases upgraded by copying a schema migrated once per worker (testkit/schema.py);
    ``THREADLINE_TEST_MIGRATIONS=replay`` replays every migration for every database instead."""
    import storage.migrate

    if os.environ.get("THREADLINE_TEST_MIGRATIONS") == "replay":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            storage.migrate,
            "_upgrade_sync",
            SchemaCopies(tmp_path_factory.mktemp("schema"), storage.migrate._upgrade_sync),
        )
        yield


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh database on the real PostgreSQL for this test session (one per xdist worker); its URL.

    Named ``threadline_test_<worker>_<random>``: each worker of a parallel run has its own, and two runs
    side by side on one server (two checkouts) never share one.
    """
    try:
        import psycopg

        admin = psycopg.connect(
            PG_ADMIN_URL.replace("postgresql://", "postgresql://", 1), autocommit=True, connect_timeout=3
        )
    except Exception as exc:
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"threadline_test_{worker_name()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, empty database URL: SQLite in a temp dir, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/threadline.db"
    url: str = request.getfixturevalue("pg_server")
    reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database URL."""
    return f"sqlite:///{tmp_path}/threadline.db"


@pytest.fixture
def clock() -> ManualClock:
    """A clock at Monday 5 January 2026, 09:00 UTC, moved by hand."""
    return ManualClock()


@pytest.fixture
async def app(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    """An app on SQLite with the local surface and email replies written to tmp_path/out."""
    application = await started_app(make_settings(sqlite_url, tmp_path / "out"), clock)
    yield application
    await application.stop()


@pytest.fixture
async def any_app(db_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    """The same app on SQLite and on PostgreSQL (upgraded with the real migrations)."""
    from storage.migrate import upgrade

    await upgrade(db_url)
    application = await started_app(make_settings(db_url, tmp_path / "out"), clock)
    yield application
    await application.stop()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh Dovecot per test (starts in well under a second); skips when Dovecot is missing."""
    server = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real aiosmtpd server on a free loopback port, storing what it receives."""
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()
