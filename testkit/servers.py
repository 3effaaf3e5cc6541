"""Real servers in tests: skip when one is missing (fail under ``THREADLINE_REQUIRE_SERVERS=1``, as CI
runs), the PostgreSQL server tests use, and emptying one of its databases."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVERS = os.environ.get("THREADLINE_REQUIRE_SERVERS") == "1"
PG_ADMIN_URL = os.environ.get("THREADLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable(reason: str) -> None:
    """Skip a test whose server is missing, or fail when CI demands real servers."""
    if REQUIRE_SERVERS:
        pytest.fail(f"required test server missing: {reason}")
    pytest.skip(reason)


def reset_postgres(url: str) -> None:
    """Empty the database at ``url`` (drop and recreate its public schema)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
