"""APScheduler wiring: periodic jobs of the core in the shared asyncio loop."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.snooze import SnoozeWaker

__all__ = ["build_scheduler"]


def build_scheduler(waker: SnoozeWaker, snooze_check_seconds: float = 15.0) -> AsyncIOScheduler:
    """A scheduler with the snooze wake-up job (runs once at start, then every few seconds)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        waker.wake_due,
        "interval",
        seconds=snooze_check_seconds,
        id="snooze-wake",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
