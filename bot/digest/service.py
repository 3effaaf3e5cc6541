"""Posting digests: on their cron schedule, on demand, and late for a run that was not posted in time.

Every scheduled run is claimed in ``digest_runs`` (unique per digest and period end)
before it is built, so several instances or a restart never post one twice. It is built
in a read-only snapshot (``Store.snapshot``: on SQLite off the event loop), then leaves
like everything that reaches a platform: as an outbox row (kind ``digest``, written in the
transaction that marks the run sent), which this instance claims as it writes it and
delivers at once; a failed post is retried with the outbox's backoff, pacing and outage
policy. A failed build drops its claim so it is tried again; a claim still unsent after
``CLAIM_STALE`` belongs to an instance that died building it and is taken over.

``post_missed`` (on start, then every few seconds in every instance) posts, marked
late, the newest run whose fire time passed without a post: missed while down,
skipped while the database was unreachable at the cron moment, or claimed by an
instance that died. A run counts as missed only when the digest was posted before or
fell due while this instance ran (a digest configured today does not post
yesterday's run on first start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock
from bot.config import Settings
from bot.digest.compute import build_digest
from bot.effects import DIGEST, surface_destination
from bot.runtime import faults
from bot.views import DigestView, digest_payload
from storage import Store
from storage.models import OutboxRow

__all__ = ["DigestError", "DigestService", "cron_trigger", "fire_times"]

log = logging.getLogger(__name__)
_LOOKBACK = timedelta(days=8)
_MAX_FIRES = 20000
CLAIM_STALE = timedelta(seconds=40)  # an unsent claim this old belongs to an instance that died
MISSED_AFTER = timedelta(seconds=30)  # a fire time this old without a post is missed (the cron job ran late)
EARLY_FIRE = timedelta(seconds=60)  # a cron job fired this much early (host clock ahead) waits for its time


class DigestError(Exception):
    """A digest cannot be posted; the message says why and what to do."""


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """The APScheduler trigger of a crontab line in a time zone."""
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def fire_times(trigger: CronTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Every fire time in (after, until], oldest first (bounded)."""
    times: list[datetime] = []
    moment = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while moment is not None and moment <= until and len(times) < _MAX_FIRES:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return times


Deliver = Callable[[OutboxRow], Awaitable[bool]]
"""Delivers an outbox row claimed as it was written; True when it went out (``deliver_claimed``)."""


class DigestService:
    """Builds digests and posts them through the outbox."""

    def __init__(
        self, store: Store, settings: Settings, clock: Clock, surfaces: Collection[str], deliver: Deliver
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.surfaces = surfaces  # the names of the running surfaces
        self.deliver = deliver
        self.started_at = clock.now()
        for name, digest in settings.digests.items():
            unknown = [i for i in digest.inboxes if i not in settings.inboxes]
            if unknown:
                log.warning(
                    "digest names unknown inboxes; they are left out",
                    extra={"digest": name, "inboxes": ",".join(unknown)},
                )
            if digest.surface not in surfaces:
                log.warning(
                    "digest surface is not running; the digest cannot be posted",
                    extra={"digest": name, "surface": digest.surface},
                )

    def _digest(self, name: str) -> tuple[str, str]:
        """(chat channel, surface name) of a configured digest whose surface runs."""
        digest = self.settings.digests.get(name)
        if digest is None:
            known = ", ".join(sorted(self.settings.digests)) or "none configured"
            raise DigestError(f"no digest '{name}' (known: {known}); add a [digests.{name}] section")
        if digest.surface not in self.surfaces:
            raise DigestError(f"digests.{name}.surface: surface '{digest.surface}' is not running")
        return digest.chat_channel, digest.surface

    async def _period_start(self, name: str, end: datetime) -> datetime:
        async with self.store.transaction() as uow:
            last = await uow.schedule.last_digest_run(name)
        if last is not None and last.period_end < end:
            return last.period_end
        digest = self.settings.digests[name]
        earlier = fire_times(
            cron_trigger(digest.cron, digest.timezone), end - _LOOKBACK, end - timedelta(seconds=1)
        )
        return earlier[-1] if earlier else end - timedelta(days=1)

    async def build(self, name: str, end: datetime | None = None, *, late: bool = False) -> DigestView:
        """The digest ``name`` for the period since its last run up to ``end`` (default now)."""
        self._digest(name)
        end = end or self.clock.now()
        start = await self._period_start(name, end)
        async with self.store.snapshot() as uow:  # a long read: off the event loop on SQLite
            return await build_digest(
                uow, self.settings, name, self.settings.digests[name], start, end, late=late
            )

    async def send_now(self, name: str) -> DigestView:
        """Post the digest now (``threadline digest send NAME``); the period ends now.

        Raises ``DigestError`` when the post did not go out at once (the outbox keeps retrying it)."""
        view, posted = await self._send(name, self.clock.now(), late=False)
        if not posted:
            raise DigestError(
                f"digest '{name}' is queued but its surface did not take it yet; a running Threadline "
                "retries it (the log says why it failed)"
            )
        return view

    async def send_due(self, name: str) -> bool:
        """The cron job: post the run of the fire time nearest now, unless it was posted already.

        The scheduler fires on this host's clock, the period ends on ``clock``'s (the
        database's when instances share one): fired up to ``EARLY_FIRE`` before the fire
        time by that clock, the job waits for it instead of posting the previous period.
        """
        digest = self.settings.digests[name]
        now = self.clock.now()
        fires = fire_times(cron_trigger(digest.cron, digest.timezone), now - _LOOKBACK, now + EARLY_FIRE)
        past = [moment for moment in fires if moment <= now]
        coming = [moment for moment in fires if moment > now]
        if coming and (not past or coming[0] - now <= now - past[-1]):
            await asyncio.sleep((coming[0] - now).total_seconds())
            end = coming[0]
        elif past:
            end = past[-1]
        else:
            return False
        try:
            await self._send(name, end, late=self.clock.now() - end > timedelta(minutes=5))
        except _AlreadySent:
            return False
        return True

    async def catch_up(self) -> int:
        """On start: post once, marked late, the latest run of each digest that was missed while down."""
        return await self.post_missed(timedelta(0))

    async def post_missed(self, grace: timedelta = MISSED_AFTER) -> int:
        """Post, marked late, each digest's newest run whose fire time passed ``grace`` ago unposted
        (missed while down, skipped during a database outage, or claimed by an instance that died);
        return how many were posted. The scheduled job runs it every few seconds."""
        sent = 0
        now = self.clock.now()
        for name, digest in self.settings.digests.items():
            async with self.store.transaction() as uow:
                last = await uow.schedule.last_digest_run(name)
            after = last.period_end if last is not None else self.started_at
            fires = fire_times(
                cron_trigger(digest.cron, digest.timezone), max(after, now - _LOOKBACK), now - grace
            )
            if not fires:
                continue
            try:
                await self._send(name, fires[-1], late=True)
                sent += 1
            except _AlreadySent:
                continue
            except Exception as exc:  # a surface refusing must not stop the start or the job
                log.warning("missed digest not sent", extra={"digest": name, "reason": str(exc)[:300]})
        return sent

    async def _send(self, name: str, end: datetime, *, late: bool) -> tuple[DigestView, bool]:
        """Claim, build and queue the run ending at ``end``, then deliver it; (the digest, posted now)."""
        chat_channel, surface = self._digest(name)
        start = await self._period_start(name, end)
        now = self.clock.now()
        async with self.store.transaction() as uow:
            run_id = await uow.schedule.claim_digest_run(name, start, end, now, late=late, stale=CLAIM_STALE)
        if run_id is None:
            raise _AlreadySent(name)
        faults.hit("digest_claimed")  # crash-safety tests: the run is claimed, not posted
        try:
            async with self.store.snapshot() as uow:  # a long read: off the event loop on SQLite
                view = await build_digest(
                    uow, self.settings, name, self.settings.digests[name], start, end, late=late
                )
        except Exception:
            async with self.store.transaction() as uow:
                await uow.schedule.finish_digest_run(run_id, None)
            log.exception("digest build failed", extra={"digest": name})
            raise
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.ops.claim_seconds)
        payload = {"chat_channel": chat_channel, "digest": digest_payload(view)}
        async with self.store.transaction() as uow:  # queued and marked sent in one commit
            row = await uow.outbox.enqueue_claimed(surface_destination(surface), DIGEST, now, lease, payload)
            await uow.schedule.finish_digest_run(run_id, now)
        posted = await self.deliver(row)
        log.info("digest queued", extra={"digest": name, "late": late, "posted": posted})
        return view, posted


class _AlreadySent(Exception):
    """The run was claimed by an earlier post or another instance."""
