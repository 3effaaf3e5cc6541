"""Fixtures of the reliability tests: real Dovecot, HAProxy, databases for real processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from testkit.email.dovecot import Dovecot, start_dovecot, stop_dovecot
from testkit.processes.haproxy import Balancer
from testkit.servers import reset_postgres
from testkit.slack.fake import FakeSlack


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh Dovecot (skips, or fails under THREADLINE_REQUIRE_SERVERS=1, when missing)."""
    server = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server)


@pytest.fixture
def haproxy() -> Iterator[Callable[[dict[str, int]], Balancer]]:
    """Make a real HAProxy (round-robin over the given name -> port backends, health-checked on
    ``/readyz``; started by ``Balancer.start``); every one made is killed at teardown. Fails under
    THREADLINE_REQUIRE_SERVERS=1 (CI) when HAProxy is missing, skips otherwise."""
    made: list[Balancer] = []

    def make(backends: dict[str, int]) -> Balancer:
        balancer = Balancer(backends)
        made.append(balancer)
        return balancer

    try:
        yield make
    finally:
        for balancer in made:
            balancer.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def process_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for real processes: SQLite file or the session's PostgreSQL database."""
    import asyncio

    from storage.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/threadline.db"
    else:
        url = request.getfixturevalue("pg_server")
        reset_postgres(url)
    asyncio.run(upgrade(url))
    return url


@pytest.fixture
def pg_db(pg_server: str) -> str:
    """The session's PostgreSQL database, migrated and empty."""
    import asyncio

    from storage.migrate import upgrade

    reset_postgres(pg_server)
    asyncio.run(upgrade(pg_server))
    return pg_server


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API, with Alice in the workspace."""
    fake = await FakeSlack().start()
    fake.add_user("UALICE", "Alice", "alice@example.com")
    try:
        yield fake
    finally:
        await fake.stop()
