"""APScheduler wiring: periodic jobs of the core in the shared asyncio loop.

Jobs: the snooze wake-up, the SLA check (lease-guarded, so one instance runs it),
one cron job per digest, in the digest's own time zone, and the check that posts a
digest run missed anyway (``DigestService.post_missed``), and on SQLite the hourly refresh of
the planner's statistics (``PRAGMA optimize``). Every job reports database
failures to the instance's ``DatabaseOutage`` (one log line per outage, not a traceback per run).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.digest.service import DigestService, cron_trigger
from bot.runtime.db_outage import DatabaseOutage
from bot.sla.checker import SlaChecker

__all__ = ["build_scheduler"]


def build_scheduler(
    wake_due: Callable[[], Awaitable[Any]],
    snooze_check_seconds: float = 15.0,
    *,
    sla: SlaChecker | None = None,
    sla_check_seconds: float = 30.0,
    digests: DigestService | None = None,
    missed_digest_check_seconds: float = 10.0,
    database: DatabaseOutage | None = None,
    statistics: Callable[[], Awaitable[Any]] | None = None,
    statistics_seconds: float = 3600.0,
) -> AsyncIOScheduler:
    """A scheduler with the snooze wake-up job (``wake_due``, lease-guarded by the caller when
    instances share a database), the SLA check and the digests' cron jobs; with ``database``,
    each job's database failures are recorded there instead of raised; ``statistics`` refreshes
    the query planner's statistics (SQLite: ``storage.planner``) every ``statistics_seconds``."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        wake_due,
        "interval",
        seconds=snooze_check_seconds,
        id="snooze-wake",
        coalesce=True,
        max_instances=1,
    )
    if sla is not None:
        scheduler.add_job(
            sla.run, "interval", seconds=sla_check_seconds, id="sla-check", coalesce=True, max_instances=1
        )
    if digests is not None:
        scheduler.add_job(
            digests.post_missed,
            "interval",
            seconds=missed_digest_check_seconds,
            id="digest-missed",
            coalesce=True,
            max_instances=1,
        )
        for name, digest in digests.settings.digests.items():
            scheduler.add_job(
                digests.send_due,
                cron_trigger(digest.cron, digest.timezone),
                args=[name],
                id=f"digest:{name}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
    if statistics is not None:
        scheduler.add_job(
            statistics,
            "interval",
            seconds=statistics_seconds,
            id="planner-statistics",
            coalesce=True,
            max_instances=1,
        )
    if database is not None:
        for job in scheduler.get_jobs():
            job.modify(func=database.guard(job.id, job.func))
    return scheduler
