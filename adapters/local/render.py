"""Plain-text rendering of cards and posts for the terminal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.views import CardView, PostView

__all__ = ["render_card", "render_card_change", "render_post"]

_CHANNEL_ICON = {"email": "✉", "whatsapp": "☏"}
_INDENT = "      "


def _status_line(card: CardView) -> str:
    parts = [card.status]
    if card.snoozed_until is not None:
        local = card.snoozed_until.astimezone(ZoneInfo(card.timezone))
        parts[0] += f" until {local:%a %d %b %H:%M} ({card.timezone})"
    parts.append(f"assignee: {card.assignee or '—'}")
    parts.append(f"labels: {', '.join(card.labels) or '—'}")
    if card.priority != "normal":
        parts.append(f"priority: {card.priority}")
    return " · ".join(parts)


def render_card(card: CardView) -> str:
    """The card as printed when a thread opens."""
    icon = _CHANNEL_ICON.get(card.channel, "•")
    head = f'━━ #{card.number} · {icon} {card.channel} · {card.customer_address} · "{card.subject}"'
    return f"{head}\n{_INDENT}{card.inbox} · {_status_line(card)}"


def render_card_change(card: CardView) -> str:
    """One line saying what the card shows now."""
    return f"#{card.number} ✎ {_status_line(card)}"


def _indent(text: str) -> str:
    return "\n".join(_INDENT + line for line in (text.splitlines() or [""]))


def render_post(number: int, post: PostView) -> str:
    """A thread post as printed."""
    stamp = f"{post.created_at:%H:%M}"
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
        lines.append(f"{_INDENT}📎 {attachment.filename} · {attachment.content_type} · {attachment.size} bytes{note}")
    return "\n".join(lines)
