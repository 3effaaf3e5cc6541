"""Shared fixtures: settings, databases (SQLite and the real PostgreSQL), and a running app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.clock import ManualClock
from testkit.workers import free_port, worker_name
from tests.email.email_servers import Dovecot, Sink, start_dovecot, stop_dovecot
from tests.groups import mark_groups
from threadline.app import Threadline
from threadline.config import AppSettings, parse_config

REQUIRE_SERVERS = os.environ.get("THREADLINE_REQUIRE_SERVERS") == "1"
PG_ADMIN_URL = os.environ.get("THREADLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

BASE_CONFIG = """
[threadline]
database_url = "{db}"
log_level = "warning"

[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)
backoff_base_seconds = 1.0
poll_interval_seconds = 0.05

[surfaces.local]
agent = "alice"

[inboxes.support]
name = "Support"
channel = "email"
address = "support@example.com"
surface = "local"
chat_channel = "support"
timezone = "Europe/Amsterdam"

[inboxes.whatsapp]
name = "WhatsApp"
channel = "whatsapp"
address = "+31 20 555 0100"
surface = "local"
chat_channel = "wa"
timezone = "Europe/Amsterdam"
reopen_window = "2d"

[channels.email]
outgoing_dir = "{outdir}"

[agents.alice]
name = "Alice Martin"
identities = {{ local = "alice" }}

[agents.bob]
name = "Bob Stone"
identities = {{ local = "bob" }}

[demo]
whatsapp_outbox_file = "{outdir}/wa.jsonl"
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its group (tests/groups.py): ``pytest -m unit``, ``-m "not crash"``, …"""
    mark_groups(items, str(Path(__file__).parent))


def unavailable(reason: str) -> None:
    """Skip a test whose server is missing, or fail when CI demands real servers."""
    if REQUIRE_SERVERS:
        pytest.fail(f"required test server missing: {reason}")
    pytest.skip(reason)


def make_settings(db_url: str, outdir: Path, extra: str = "") -> AppSettings:
    """Test settings on ``db_url`` with email replies written to ``outdir``."""
    return parse_config(BASE_CONFIG.format(db=db_url, outdir=outdir) + extra, env={})


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


def reset_postgres(url: str) -> None:
    """Empty the database at ``url`` (drop and recreate its public schema)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


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


async def started_app(settings: AppSettings, clock: ManualClock, **kwargs: Any) -> Threadline:
    """Build and start an app whose background tasks the test drives itself."""
    app = Threadline(settings, clock=clock, **kwargs)
    await app.prepare_database()
    await app.sync_agents()
    return app


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
def smtp() -> Iterator[tuple[Sink, int]]:
    """A real aiosmtpd server on a free loopback port, storing what it receives."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
