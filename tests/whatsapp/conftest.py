"""Fixtures for the WhatsApp channel: the fake Graph API, and an app wired to it with its webhook up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.whatsapp.graph import FakeGraph
from testkit.whatsapp.rig import WhatsAppRig, build_rig


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    """The fake Graph API on a free port."""
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def rig(tmp_path: Path, graph: FakeGraph, clock: ManualClock) -> AsyncIterator[WhatsAppRig]:
    """The standard rig."""
    built = await build_rig(tmp_path, graph, clock)
    yield built
    await built.close()
