"""A test app built and prepared, whose background tasks the test drives itself."""

from __future__ import annotations

from typing import Any

from bot.clock import ManualClock
from threadline.app import Threadline
from threadline.config import AppSettings


async def started_app(settings: AppSettings, clock: ManualClock, **kwargs: Any) -> Threadline:
    """Build and start an app whose background tasks the test drives itself."""
    app = Threadline(settings, clock=clock, **kwargs)
    await app.prepare_database()
    await app.sync_agents()
    return app
