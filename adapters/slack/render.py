"""Block Kit rendering of cards and thread posts; customer text is made inert here.

Slack reads ``<…>`` as control sequences (``<!channel>``, ``<@U123>``, ``<http://x|label>``)
and ``&`` starts an entity, so customer text escapes exactly ``&``, ``<`` and ``>``
(https://api.slack.com/reference/surfaces/formatting#escaping). Posts never set
``link_names``. Long text is split into sections of at most 3,000 characters and
messages of at most 50 blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.views import CardView, PostView

__all__ = [
    "ACTION_ASSIGN",
    "ACTION_CLAIM",
    "ACTION_CLOSE",
    "ACTION_LABELS",
    "ACTION_REOPEN",
    "ACTION_SNOOZE",
    "CARD_BLOCK",
    "MAX_BLOCKS",
    "MAX_SECTION",
    "SNOOZE_CHOICES",
    "Chunk",
    "card_blocks",
    "card_number",
    "escape",
    "post_chunks",
    "split_text",
]

MAX_SECTION = 3000
MAX_BLOCKS = 50
CARD_BLOCK = "tl_card"
ACTION_CLAIM = "tl_claim"
ACTION_ASSIGN = "tl_assign"
ACTION_LABELS = "tl_labels"
ACTION_SNOOZE = "tl_snooze"
ACTION_CLOSE = "tl_close"
ACTION_REOPEN = "tl_reopen"
SNOOZE_CHOICES = (
    ("1 hour", "1h"),
    ("4 hours", "4h"),
    ("Tomorrow 9:00", "tomorrow 9:00"),
    ("Monday 9:00", "mon 9:00"),
    ("1 week", "7d"),
)
_CHANNEL_ICON = {"email": ":email:", "whatsapp": ":speech_balloon:"}
_STATUS_ICON = {"open": ":large_green_circle:", "snoozed": ":zzz:", "closed": ":white_check_mark:"}
_KIND_ICON = {
    "note": ":memo:",
    "event": ":information_source:",
    "outbound": ":arrow_upper_right:",
    "notice": ":warning:",
}


def escape(text: str) -> str:
    """Escape ``&``, ``<``, ``>`` so that text cannot mention, link or format-inject on Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {
        "type": "plain_text",
        "text": (text[: limit - 1] + "…") if len(text) > limit else text,
        "emoji": True,
    }


def card_number(block_id: str | None) -> int | None:
    """The conversation number encoded in a card block id (``tl_card:42``), if any."""
    if not block_id or not block_id.startswith(CARD_BLOCK + ":"):
        return None
    tail = block_id.split(":", 1)[1]
    return int(tail) if tail.isdigit() else None


def _fields(card: CardView) -> list[dict[str, Any]]:
    status = f"{_STATUS_ICON.get(card.status, '')} {card.status}".strip()
    if card.status == "snoozed" and card.snoozed_until is not None:
        status += (
            f" until <!date^{int(card.snoozed_until.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{card.snoozed_until:%Y-%m-%d %H:%M} UTC>"
        )
    rows = [
        ("Status", status),
        ("Assignee", escape(card.assignee) if card.assignee else "_unassigned_"),
        ("Labels", ", ".join(f"`{escape(label)}`" for label in card.labels) or "_none_"),
        ("Priority", escape(card.priority)),
    ]
    if card.sla_due is not None:
        rows.append(
            (
                "SLA due",
                f"<!date^{int(card.sla_due.timestamp())}^{{date_short_pretty}} {{time}}|"
                f"{card.sla_due:%Y-%m-%d %H:%M} UTC> ({card.sla_state})",
            )
        )
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in rows]


def _actions(card: CardView) -> dict[str, Any]:
    value = str(card.number)
    elements: list[dict[str, Any]] = []
    if card.status != "closed":
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_CLAIM,
                "value": value,
                "style": "primary",
                "text": _plain("Claim"),
            }
        )
    elements.append({"type": "users_select", "action_id": ACTION_ASSIGN, "placeholder": _plain("Assign")})
    labels: dict[str, Any] = {
        "type": "multi_external_select",
        "action_id": ACTION_LABELS,
        "placeholder": _plain("Labels"),
        "min_query_length": 0,
    }
    if card.labels:
        labels["initial_options"] = [{"text": _plain(label), "value": label} for label in card.labels[:100]]
    elements.append(labels)
    if card.status != "closed":
        elements.append(
            {
                "type": "static_select",
                "action_id": ACTION_SNOOZE,
                "placeholder": _plain("Snooze"),
                "options": [{"text": _plain(t), "value": v} for t, v in SNOOZE_CHOICES],
            }
        )
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_CLOSE,
                "value": value,
                "text": _plain("Close"),
                "confirm": {
                    "title": _plain("Close?"),
                    "text": _plain(f"Close #{card.number}?"),
                    "confirm": _plain("Close"),
                    "deny": _plain("Cancel"),
                },
            }
        )
    if card.status != "open":
        elements.append(
            {"type": "button", "action_id": ACTION_REOPEN, "value": value, "text": _plain("Reopen")}
        )
    return {"type": "actions", "block_id": f"{CARD_BLOCK}:{card.number}", "elements": elements}


def card_blocks(card: CardView) -> tuple[str, list[dict[str, Any]]]:
    """The card as (notification text, blocks); every customer-controlled string is escaped."""
    icon = _CHANNEL_ICON.get(card.channel, ":incoming_envelope:")
    customer = escape(card.customer)
    if card.customer_address and card.customer_address != card.customer:
        customer += f" ({escape(card.customer_address)})"
    subject = escape(card.subject or "(no subject)")
    title = f"*#{card.number}* · {icon} {escape(card.channel)} · {customer} · “{subject}”"
    text = f"#{card.number} · {card.channel} · {escape(card.customer)} · {subject}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": f"tl_title:{card.number}",
            "text": {"type": "mrkdwn", "text": title[:3000]},
        },
        {"type": "section", "block_id": f"tl_fields:{card.number}", "fields": _fields(card)},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Inbox: {escape(card.inbox)}"}]},
        _actions(card),
    ]
    return text, blocks


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, at line breaks or spaces where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = rest.rfind(" ", limit // 2, limit)
        if cut < 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n") if rest[cut : cut + 1] == "\n" else rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _escaped_pieces(text: str) -> list[str]:
    """Escape, then split so no piece ends inside an entity such as ``&amp;``."""
    out: list[str] = []
    for piece in split_text(text, MAX_SECTION * 4 // 5):
        out.extend(_split_escaped(escape(piece)))
    return out


def _split_escaped(text: str) -> list[str]:
    parts: list[str] = []
    while len(text) > MAX_SECTION:
        cut = MAX_SECTION
        amp = text.rfind("&", cut - 5, cut)
        if amp >= 0 and ";" not in text[amp:cut]:
            cut = amp
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


@dataclass(frozen=True)
class Chunk:
    """One Slack message of a post: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


def _header(post: PostView) -> str | None:
    if post.kind == "inbound":
        return None
    icon = _KIND_ICON.get(post.kind, "")
    if post.kind == "note":
        return f"{icon} Note by {escape(post.author)}"
    if post.kind == "outbound":
        return f"{icon} sent to customer by {escape(post.author)} ({escape(post.channel or 'reply')})"
    return None


def post_chunks(post: PostView) -> list[Chunk]:
    """The post as one or more Slack messages within Block Kit limits; all text escaped."""
    header = _header(post)
    body = post.text or ""
    if post.kind in ("event", "notice"):
        body = f"{_KIND_ICON.get(post.kind, '')} {body}".strip()
        return [Chunk(escape(body)[:3000], [_context(escape(body)[:3000])])]
    sections = [s for s in _escaped_pieces(body) if s.strip()] or []
    missing = [a for a in post.attachments if a.data is None]
    if missing:
        lines = "\n".join(
            f":paperclip: {escape(a.filename)} ({a.size:,} bytes) — {escape(a.note or 'not kept')}"
            for a in missing
        )
        sections.append(lines[:MAX_SECTION])
    blocks: list[dict[str, Any]] = []
    if header:
        blocks.append(_context(header))
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]
    if not blocks:
        blocks.append(_context("(empty message)"))
    chunks: list[Chunk] = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        group = blocks[start : start + MAX_BLOCKS]
        fallback = next((b["text"]["text"] for b in group if b["type"] == "section"), header or "(message)")
        chunks.append(Chunk(fallback[:3000], group))
    return chunks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
