"""Plain-text rendering of cards and posts for the terminal.

Every time is shown in one zone, the terminal's display zone, and labelled with it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.humanize import duration_text
from bot.views import CardView, DigestView, PostView

__all__ = ["local_time", "render_card", "render_card_change", "render_digest", "render_post"]

_CHANNEL_ICON = {"email": "✉", "whatsapp": "☏"}
_INDENT = "      "


def local_time(moment: datetime, zone: ZoneInfo, pattern: str = "%a %d %b %H:%M") -> str:
    """``moment`` in the display zone, labelled with the zone's abbreviation (``Mon 07 Dec 09:00 CET``)."""
    local = moment.astimezone(zone)
    return f"{local.strftime(pattern)} {local.tzname() or zone.key}"


def _status_line(card: CardView, zone: ZoneInfo) -> str:
    parts = [card.status]
    if card.snoozed_until is not None:
        parts[0] += f" until {local_time(card.snoozed_until, zone)}"
    parts.append(f"assignee: {card.assignee or '—'}")
    parts.append(f"labels: {', '.join(card.labels) or '—'}")
    if card.priority != "normal":
        parts.append(f"priority: {card.priority}")
    if card.sla_state == "breached":
        parts.append("⚠ breached")
    elif card.sla_due is not None:
        warning = "⏰ " if card.sla_state == "warning" else ""
        parts.append(f"{warning}SLA due {local_time(card.sla_due, zone, '%a %H:%M')}")
    return " · ".join(parts)


def render_card(card: CardView, zone: ZoneInfo) -> str:
    """The card as printed when a thread opens."""
    icon = _CHANNEL_ICON.get(card.channel, "•")
    org = f" (org {card.account})" if card.account else ""
    head = f'━━ #{card.number} · {icon} {card.channel} · {card.customer_address}{org} · "{card.subject}"'
    return f"{head}\n{_INDENT}{card.inbox} · {_status_line(card, zone)}"


def render_card_change(card: CardView, zone: ZoneInfo) -> str:
    """One line saying what the card shows now."""
    return f"#{card.number} ✎ {_status_line(card, zone)}"


def _indent(text: str) -> str:
    return "\n".join(_INDENT + line for line in (text.splitlines() or [""]))


def render_post(number: int, post: PostView, zone: ZoneInfo) -> str:
    """A thread post as printed."""
    stamp = local_time(post.created_at, zone, "%H:%M")
    if post.kind == "inbound":
        head = f"#{number} │ {post.author} (customer, {post.channel}) {stamp}"
    elif post.kind == "outbound":
        head = f"#{number} │ ↗ sent to customer by {post.author} ({post.channel}) {stamp}"
    elif post.kind == "note":
        head = f"#{number} │ 📝 note by {post.author} {stamp}"
    elif post.kind == "event":
        return f"#{number} │ · {post.text}"
    else:
        return f"#{number} │ ⚠ {post.text}"
    lines = [head, _indent(post.text)]
    for attachment in post.attachments:
        note = f" ({attachment.note})" if attachment.note else ""
        lines.append(
            f"{_INDENT}📎 {attachment.filename} · {attachment.content_type} · {attachment.size} bytes{note}"
        )
    return "\n".join(lines)


def render_digest(digest: DigestView, zone: ZoneInfo) -> str:
    """A digest as printed: counts, flow, timings, longest waits (with their thread), breakdowns."""
    late = " (late: not posted at its time)" if digest.late else ""
    compliance = "—" if digest.sla_compliance is None else f"{digest.sla_compliance:g} %"
    lines = [
        f"━━ 📊 {digest.title}{late}",
        f"{_INDENT}{local_time(digest.period_start, zone)} → {local_time(digest.period_end, zone)}",
        f"{_INDENT}open {digest.open} · unassigned {digest.unassigned} · snoozed {digest.snoozed}"
        f" · breached {digest.breached}",
        f"{_INDENT}opened {digest.opened} · closed {digest.closed} since the last digest",
        f"{_INDENT}median first response {duration_text(digest.median_first_response)}"
        f" · median resolution {duration_text(digest.median_resolution)} · SLA compliance {compliance}",
    ]
    if digest.oldest:
        lines.append(f"{_INDENT}waiting longest:")
        for entry in digest.oldest:
            since = local_time(entry.waiting_since, zone, "%a %H:%M") if entry.waiting_since else "—"
            link = f" → {entry.thread_id}" if entry.thread_id else ""
            flag = " ⚠" if entry.sla_state == "breached" else ""
            lines.append(
                f'{_INDENT}  #{entry.number} "{entry.subject}" since {since}'
                f" · {entry.assignee or 'unassigned'}{flag}{link}"
            )
    if digest.by_assignee:
        lines.append(f"{_INDENT}by assignee: " + ", ".join(f"{w} {n}" for w, n in digest.by_assignee))
    if digest.by_label:
        lines.append(f"{_INDENT}by label: " + ", ".join(f"{label} {n}" for label, n in digest.by_label))
    return "\n".join(lines)
