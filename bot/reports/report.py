"""Reports: ``threadline report --since 7d [--inbox X] [--format table|csv|json]``.

Computed from the database: volume per inbox and channel (conversations opened),
first-response and resolution percentiles (p50/p90, wall-clock, nearest rank) per
inbox, SLA compliance (as in digests), and per-agent and per-label breakdowns;
per-agent counts come from the audit trail (replies, closes, claims, assignments
made by each agent in the period), and customer satisfaction (CSAT) per inbox.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.digest.compute import compliance_percent
from bot.digest.percentiles import percentile
from bot.humanize import duration_text, text_table
from bot.sla.policy import policy_for
from storage import UnitOfWork

__all__ = ["AGENT_ACTIONS", "Report", "build_report", "percentile", "render"]

AGENT_ACTIONS = ("replied", "templated", "closed", "claimed", "assigned", "noted")


@dataclass
class Timing:
    """Percentiles of one duration in seconds."""

    count: int
    p50: float | None
    p90: float | None


@dataclass
class Report:
    """Everything a report shows."""

    since: datetime
    until: datetime
    inbox: str | None
    volume: list[dict[str, Any]] = field(default_factory=list)
    first_response: dict[str, Timing] = field(default_factory=dict)
    resolution: dict[str, Timing] = field(default_factory=dict)
    sla_handled: int = 0
    sla_breached: int = 0
    sla_compliance: float | None = None
    agents: dict[str, dict[str, int]] = field(default_factory=dict)
    labels: list[dict[str, Any]] = field(default_factory=list)
    csat: dict[str, dict[str, float]] = field(default_factory=dict)


def _timings(rows: list[tuple[str, str, float]]) -> dict[str, Timing]:
    per_inbox: dict[str, list[float]] = defaultdict(list)
    for inbox, _, seconds in rows:
        per_inbox[inbox].append(seconds)
        per_inbox["(all)"].append(seconds)
    return {k: Timing(len(v), percentile(v, 50), percentile(v, 90)) for k, v in sorted(per_inbox.items())}


async def build_report(
    uow: UnitOfWork, settings: Settings, since: datetime, until: datetime, inbox: str | None = None
) -> Report:
    """Compute a report over [since, until), for one inbox or all."""
    inboxes = [inbox] if inbox else list(settings.inboxes)
    stats = uow.stats
    report = Report(since=since, until=until, inbox=inbox)
    report.volume = [
        {"inbox": i, "channel": c, "opened": n} for i, c, n in await stats.volume(inboxes, since, until)
    ]
    report.first_response = _timings(await stats.durations(inboxes, since, until, "first_response"))
    report.resolution = _timings(await stats.durations(inboxes, since, until, "resolution"))
    with_sla = [i for i in inboxes if i in settings.inboxes and policy_for(settings.inbox(i)) is not None]
    if with_sla:
        report.sla_handled, report.sla_breached = await stats.compliance(with_sla, since, until)
        report.sla_compliance = compliance_percent(report.sla_handled, report.sla_breached)
    agents: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AGENT_ACTIONS, 0))
    for actor, action, count in await stats.actions_by_actor(inboxes, since, until, AGENT_ACTIONS):
        if actor not in ("customer", "Threadline"):
            agents[actor][action] = count
    report.agents = dict(sorted(agents.items()))
    report.labels = [{"label": n, "opened": c} for n, c in await stats.by_label(inboxes, since, until)]
    report.csat = _csat([(i, r) for i, r in await uow.csat.ratings(since, until) if i in inboxes])
    return report


def _csat(ratings: list[tuple[str, int]]) -> dict[str, dict[str, float]]:
    """Per inbox: how many customers rated, their average, and the share of 4s and 5s."""
    per_inbox: dict[str, list[int]] = defaultdict(list)
    for inbox, rating in ratings:
        per_inbox[inbox].append(rating)
    return {
        inbox: {
            "count": len(values),
            "average": round(sum(values) / len(values), 2),
            "satisfied_percent": round(100 * sum(v >= 4 for v in values) / len(values), 1),
        }
        for inbox, values in sorted(per_inbox.items())
    }


def _indented(lines: list[str]) -> list[str]:
    return [f"  {line}" for line in lines]


def _table(report: Report) -> str:
    lines = [
        f"Threadline report {report.since:%Y-%m-%d %H:%M} → {report.until:%Y-%m-%d %H:%M} UTC"
        + (f" · inbox {report.inbox}" if report.inbox else ""),
        "",
        "Volume (conversations opened)",
    ]
    volume = [(v["inbox"], v["channel"], v["opened"]) for v in report.volume]
    lines += (
        _indented(text_table(("inbox", "channel", "opened"), volume, right=frozenset({2})))
        if volume
        else ["  none"]
    )
    for title, timings in (("First response", report.first_response), ("Resolution", report.resolution)):
        lines += ["", title]
        rows = [(k, duration_text(t.p50), duration_text(t.p90), t.count) for k, t in timings.items()]
        headers = ("", "p50", "p90", "conversations")
        lines += _indented(text_table(headers, rows, right=frozenset({1, 2, 3}))) if rows else ["  none"]
    compliance = "—" if report.sla_compliance is None else f"{report.sla_compliance:g} %"
    lines += [
        "",
        f"SLA compliance: {compliance} ({report.sla_breached} breached of {report.sla_handled})",
        "",
        "Agents",
    ]
    agents = [(agent, *(counts[a] for a in AGENT_ACTIONS)) for agent, counts in report.agents.items()]
    numbers = frozenset(range(1, len(AGENT_ACTIONS) + 1))
    lines += _indented(text_table(("", *AGENT_ACTIONS), agents, right=numbers)) if agents else ["  none"]
    lines += ["", "Labels (conversations opened)"]
    labels = [(item["label"], item["opened"]) for item in report.labels]
    lines += (
        _indented(text_table(("label", "opened"), labels, right=frozenset({1}))) if labels else ["  none"]
    )
    lines += ["", "Customer satisfaction"]
    csat = [
        (inbox, f"{c['count']:.0f}", f"{c['average']:.2f}", f"{c['satisfied_percent']:g} %")
        for inbox, c in report.csat.items()
    ]
    headers = ("inbox", "ratings", "average", "4 or 5")
    lines += _indented(text_table(headers, csat, right=frozenset({1, 2, 3}))) if csat else ["  none"]
    return "\n".join(lines)


def _csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "metric", "value"])
    for v in report.volume:
        writer.writerow(["volume", f"{v['inbox']}/{v['channel']}", "opened", v["opened"]])
    for section, timings in (("first_response", report.first_response), ("resolution", report.resolution)):
        for key, t in timings.items():
            for metric in ("count", "p50", "p90"):
                value = getattr(t, metric)
                writer.writerow(
                    [
                        section,
                        key,
                        metric + ("" if metric == "count" else "_seconds"),
                        "" if value is None else round(value, 1),
                    ]
                )
    writer.writerow(["sla", "(all)", "handled", report.sla_handled])
    writer.writerow(["sla", "(all)", "breached", report.sla_breached])
    writer.writerow(
        ["sla", "(all)", "compliance_percent", "" if report.sla_compliance is None else report.sla_compliance]
    )
    for agent, counts in report.agents.items():
        for action, count in counts.items():
            writer.writerow(["agent", agent, action, count])
    for item in report.labels:
        writer.writerow(["label", item["label"], "opened", item["opened"]])
    for inbox, values in report.csat.items():
        for metric, value in values.items():
            writer.writerow(["csat", inbox, metric, value])
    return out.getvalue()


def render(report: Report, fmt: str) -> str:
    """The report as ``table`` (for people), ``csv`` (long format) or ``json``."""
    if fmt == "json":
        return json.dumps(asdict(report), default=str, indent=2, ensure_ascii=False)
    if fmt == "csv":
        return _csv(report)
    return _table(report)
