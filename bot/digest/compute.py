"""Digest content: counts now, the period's flow, median timings and SLA compliance, as a DigestView.

Decisions, written down: durations are wall-clock (what the customer felt), not
business time; median first response counts first replies that reached a
customer in the period, median resolution counts conversations closed in it.
SLA compliance is the share of conversations handled in the period (first reply
or close in it, or a breach due in it) that never breached a target, over the
inboxes of the digest that have an SLA policy.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.digest.chart import render_chart
from bot.digest.percentiles import percentile
from bot.settings.sla import DigestSettings
from bot.sla.policy import policy_for
from bot.views import DigestEntry, DigestView
from storage import UnitOfWork
from storage.stats import Stats

__all__ = ["build_digest", "compliance_percent", "digest_inboxes"]


def digest_inboxes(settings: Settings, digest: DigestSettings) -> list[str]:
    """The inboxes a digest covers (all when none are named); unknown names are ignored."""
    return (
        [name for name in digest.inboxes if name in settings.inboxes]
        if digest.inboxes
        else list(settings.inboxes)
    )


def compliance_percent(handled: int, breached: int) -> float | None:
    """Share of handled conversations that kept every promise, in percent (None when none were handled)."""
    return round(100.0 * (handled - breached) / handled, 1) if handled else None


async def build_digest(
    uow: UnitOfWork,
    settings: Settings,
    name: str,
    digest: DigestSettings,
    start: datetime,
    end: datetime,
    *,
    late: bool = False,
) -> DigestView:
    """Compute the digest ``name`` for the period [start, end)."""
    inboxes = digest_inboxes(settings, digest)
    stats = uow.stats
    counts = await stats.current_counts(inboxes)
    opened, closed = await stats.opened_closed(inboxes, start, end)
    first = [s for _, _, s in await stats.durations(inboxes, start, end, "first_response")]
    resolution = [s for _, _, s in await stats.durations(inboxes, start, end, "resolution")]
    with_sla = [i for i in inboxes if policy_for(settings.inbox(i)) is not None]
    compliance = None
    if with_sla:
        compliance = compliance_percent(*await stats.compliance(with_sla, start, end))
    oldest = tuple(
        DigestEntry(
            number=row["conversation"].number,
            subject=row["conversation"].subject,
            inbox=settings.inbox_display(row["conversation"].inbox),
            assignee=row["assignee"],
            waiting_since=row["conversation"].waiting_since,
            sla_state=row["conversation"].sla_state,
            surface=row["surface"],
            chat_channel=row["chat_channel"],
            thread_id=row["thread_id"],
        )
        for row in await stats.oldest_waiting(inboxes, digest.oldest)
    )
    names = ", ".join(settings.inbox_display(i) for i in inboxes)
    return DigestView(
        name=name,
        title=f"{name.replace('_', ' ').capitalize()} digest · {names}",
        period_start=start,
        period_end=end,
        timezone=digest.timezone,
        inboxes=tuple(inboxes),
        open=counts["open"],
        unassigned=counts["unassigned"],
        snoozed=counts["snoozed"],
        breached=counts["breached"],
        opened=opened,
        closed=closed,
        median_first_response=percentile(first, 50),
        median_resolution=percentile(resolution, 50),
        sla_compliance=compliance,
        oldest=oldest,
        by_assignee=tuple((who or "unassigned", n) for who, n in await stats.by_assignee(inboxes)),
        by_label=tuple(await stats.by_label(inboxes)),
        late=late,
        chart_png=await _chart(stats, digest, inboxes, start, end, first) if digest.chart else None,
    )


async def _chart(
    stats: Stats,
    digest: DigestSettings,
    inboxes: list[str],
    start: datetime,
    end: datetime,
    first: list[float],
) -> bytes:
    """The digest's chart; rendering runs in a worker thread so the loop keeps answering."""
    zone = ZoneInfo(digest.timezone)
    opened = await stats.opened_moments(inboxes, start, end)
    title = f"{start.astimezone(zone):%d %b} – {end.astimezone(zone):%d %b}"
    return await asyncio.to_thread(render_chart, title, start, end, zone, opened, first)
