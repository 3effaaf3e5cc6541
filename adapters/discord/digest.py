"""Rendering of digests for Discord: one embed, with the longest waits linking to their threads."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import discord

from adapters.discord.text import escape, split_text
from bot.humanize import duration_text
from bot.views import DigestView

__all__ = ["digest_embed"]


def digest_embed(digest: DigestView) -> discord.Embed:
    """Counts, the period's flow, timings, the longest waits (``<#thread>`` links) and breakdowns."""
    zone = ZoneInfo(digest.timezone)
    start, end = digest.period_start.astimezone(zone), digest.period_end.astimezone(zone)
    compliance = "—" if digest.sla_compliance is None else f"{digest.sla_compliance:g} %"
    late = " (late: not posted at its time)" if digest.late else ""
    embed = discord.Embed(
        title=f"📊 {digest.title}{late}"[:256],
        description=f"{start:%a %d %b %H:%M} → {end:%a %d %b %H:%M} ({digest.timezone})",
        colour=0x5865F2,
    )
    embed.add_field(
        name="Now",
        value=f"open {digest.open} · unassigned {digest.unassigned} · "
        f"snoozed {digest.snoozed} · breached {digest.breached}",
        inline=False,
    )
    embed.add_field(
        name="Since the last digest", value=f"opened {digest.opened} · closed {digest.closed}", inline=False
    )
    timings = (
        f"median first response {duration_text(digest.median_first_response)} · "
        f"median resolution {duration_text(digest.median_resolution)} · SLA {compliance}"
    )
    embed.add_field(name="Timings", value=timings, inline=False)
    if digest.oldest:
        lines = []
        for entry in digest.oldest:
            since = entry.waiting_since.astimezone(zone).strftime("%a %H:%M") if entry.waiting_since else "—"
            link = f" <#{entry.thread_id}>" if entry.thread_id and entry.surface in (None, "discord") else ""
            flag = " 🔥" if entry.sla_state == "breached" else ""
            lines.append(
                f'#{entry.number} "{escape(entry.subject[:60])}" since {since} · '
                f"{entry.assignee or 'unassigned'}{flag}{link}"
            )
        embed.add_field(name="Waiting longest", value=split_text("\n".join(lines), 1024)[0], inline=False)
    if digest.by_assignee:
        embed.add_field(name="By assignee", value=", ".join(f"{w} {n}" for w, n in digest.by_assignee)[:1024])
    if digest.by_label:
        embed.add_field(name="By label", value=", ".join(f"{t} {n}" for t, n in digest.by_label)[:1024])
    return embed
