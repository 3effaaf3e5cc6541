"""The digest's small chart: conversations opened per day and channel, and first-response percentiles.

Rendered to PNG with matplotlib's Agg backend (no display needed); surfaces upload it
with the digest. Only digests with ``chart = true`` (typically the weekly one) pay for it.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest.percentiles import percentile

__all__ = ["render_chart"]

_PERCENTILES = (50, 75, 90)


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def render_chart(
    title: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    opened: list[tuple[datetime, str]],
    first_responses: list[float],
) -> bytes:
    """A PNG: stacked bars of conversations opened per local day and channel; first-response p50/p75/p90.

    matplotlib (about 45 MB resident) is imported here, on first use, so instances whose
    digests carry no chart never load it.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    days = _days(start, end, zone)
    per_day = Counter((when.astimezone(zone).date(), channel) for when, channel in opened)
    channels = sorted({channel for _, channel in opened}) or ["email"]
    figure, (volume, timing) = pyplot.subplots(
        1, 2, figsize=(8, 3), dpi=100, gridspec_kw={"width_ratios": [3, 1]}
    )
    try:
        bottom = [0] * len(days)
        labels = [d.strftime("%a %d") for d in days]
        for channel in channels:
            counts = [per_day[(d, channel)] for d in days]
            volume.bar(labels, counts, bottom=bottom, label=channel)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        volume.set_title("Conversations opened per day", fontsize=9)
        volume.legend(fontsize=7)
        volume.tick_params(labelsize=7)
        minutes = [(percentile(first_responses, q) or 0) / 60 for q in _PERCENTILES]
        timing.bar([f"p{q}" for q in _PERCENTILES], minutes, color="#5865F2")
        timing.set_title("First response (min)", fontsize=9)
        timing.tick_params(labelsize=7)
        figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        pyplot.close(figure)
