"""Fixtures of the scheduler tests: a clock at Monday 5 January 2026 08:00 UTC (09:00 in Amsterdam)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.sla import sla_settings
from threadline.app import Threadline

MONDAY_9 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 Europe/Amsterdam


@pytest.fixture
def clock() -> ManualClock:
    """Monday 5 January 2026, 09:00 in Amsterdam."""
    return ManualClock(MONDAY_9)


@pytest.fixture
async def sla_app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    """An app on SQLite with the SLA settings of ``testkit.sla``."""
    app = await started_app(sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings(), clock)
    yield app
    await app.stop()
