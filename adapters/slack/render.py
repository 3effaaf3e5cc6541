"""Block Kit rendering of cards and thread posts; customer text is made inert here.

Slack reads ``<…>`` as control sequences (``<!channel>``, ``<@U123>``, ``<http://x|label>``)
and ``&`` starts an entity, so customer text escapes exactly ``&``, ``<`` and ``>``
(https://docs.slack.dev/messaging/formatting-message-text#escaping). Posts never set
``link_names``. A post's body is shown in ``rich_text`` blocks, whose text elements Slack shows
literally (no mrkdwn, no mentions), split by ``adapters.slack.split`` into blocks of at most 3,000
characters and messages of at most 50 blocks and about 10,000 characters of block text, well under
the 12,000 Slack allows for a message's blocks (it answers ``msg_blocks_too_long`` above that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.slack.split import clip, clip_escaped, split_plain, units
from bot.views import CardView, PostView

__all__ = [
    "ACTION_ASSIGN",
    "ACTION_CLAIM",
    "ACTION_CLOSE",
    "ACTION_LABELS",
    "ACTION_REOPEN",
    "ACTION_SNOOZE",
    "ACTION_UNDO",
    "CARD_BLOCK",
    "MAX_BLOCKS",
    "MAX_FIELD",
    "MAX_SECTION",
    "MESSAGE_TEXT",
    "SNOOZE_CHOICES",
    "Chunk",
    "card_blocks",
    "card_number",
    "escape",
    "post_chunks",
]

MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_BLOCKS = 50
MESSAGE_TEXT = 10_000
MAX_PARTS = 10  # the outbox keeps 200 characters of platform ids: ten Slack ts, so every part can be redacted
FALLBACK = 300
CARD_BLOCK = "tl_card"
ACTION_CLAIM = "tl_claim"
ACTION_ASSIGN = "tl_assign"
ACTION_LABELS = "tl_labels"
ACTION_SNOOZE = "tl_snooze"
ACTION_CLOSE = "tl_close"
ACTION_REOPEN = "tl_reopen"
ACTION_UNDO = "tl_undo"  # on the "sending in 10 s" notice of a held reply (bot.outbox.undo)
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
    return [{"type": "mrkdwn", "text": clip_escaped(f"*{name}*\n{value}", MAX_FIELD)} for name, value in rows]


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


def _title(card: CardView) -> dict[str, Any]:
    """The card's first line as rich text: the customer's name and subject are shown literally."""
    customer = card.customer
    if card.customer_address and card.customer_address != card.customer:
        customer += f" ({card.customer_address})"
    if card.account:
        customer += f" · org {card.account}"
    tail = clip(f" {card.channel} · {customer} · “{card.subject or '(no subject)'}”", MAX_SECTION - 20)
    elements = [
        {"type": "text", "text": f"#{card.number}", "style": {"bold": True}},
        {"type": "text", "text": " · "},
        {"type": "emoji", "name": _CHANNEL_ICON.get(card.channel, ":incoming_envelope:").strip(":")},
        {"type": "text", "text": tail},
    ]
    return {
        "type": "rich_text",
        "block_id": f"tl_title:{card.number}",
        "elements": [{"type": "rich_text_section", "elements": elements}],
    }


def card_blocks(card: CardView) -> tuple[str, list[dict[str, Any]]]:
    """The card as (notification text, blocks); customer strings are literal rich text or escaped."""
    subject = escape(card.subject or "(no subject)")
    text = clip_escaped(f"#{card.number} · {card.channel} · {escape(card.customer)} · {subject}", FALLBACK)
    blocks: list[dict[str, Any]] = [
        _title(card),
        {"type": "section", "block_id": f"tl_fields:{card.number}", "fields": _fields(card)},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Inbox: {escape(card.inbox)}"}]},
        _actions(card),
    ]
    return text, blocks


def _literal(text: str, *, emoji: str | None = None) -> dict[str, Any]:
    """A rich_text block showing ``text`` as typed: rich text elements are never read as mrkdwn."""
    elements: list[dict[str, Any]] = [{"type": "emoji", "name": emoji}] if emoji else []
    elements.append({"type": "text", "text": text})
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


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


def _body_blocks(post: PostView) -> list[dict[str, Any]]:
    """The post's text and its list of files not kept, as literal blocks of at most MAX_SECTION each."""
    blocks = [_literal(piece) for piece in split_plain(post.text or "", MAX_SECTION) if piece.strip()]
    for a in post.attachments:
        if a.data is None:
            line = f" {a.filename} ({a.size:,} bytes) — {a.note or 'not kept'}"
            blocks.append(_literal(clip(line, MAX_SECTION), emoji="paperclip"))
    return blocks


def _pack(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive blocks grouped into messages of at most MAX_BLOCKS blocks and MESSAGE_TEXT units."""
    groups: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in blocks:
        length = units(_block_text(block))
        if groups[-1] and (len(groups[-1]) >= MAX_BLOCKS - 1 or size + length > MESSAGE_TEXT):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    return groups


def _block_text(block: dict[str, Any]) -> str:
    if block["type"] == "rich_text":
        return "".join(e.get("text", "") for s in block["elements"] for e in s["elements"])
    return "".join(e["text"] for e in block.get("elements", []))


def post_chunks(post: PostView) -> list[Chunk]:
    """The post as one or more Slack messages, in order, each within Block Kit's limits.

    The body is shown literally (rich text), so neither a customer nor an agent's quoted text
    can format, mention or link; the header is escaped mrkdwn; later parts say which part they are.
    """
    header = _header(post)
    if post.kind in ("event", "notice"):
        body = clip_escaped(escape(f"{_KIND_ICON.get(post.kind, '')} {post.text or ''}".strip()), MAX_SECTION)
        return [Chunk(body, [_context(body), *_undo(post)])]
    groups = _pack(_body_blocks(post)) if post.text or post.attachments else [[]]
    if len(groups) > MAX_PARTS:
        left = sum(units(_block_text(b)) for group in groups[MAX_PARTS - 1 :] for b in group)
        note = f"… {left:,} more characters are too long to show in Slack."
        groups = [*groups[: MAX_PARTS - 1], [_literal(note)]]
    chunks: list[Chunk] = []
    for index, group in enumerate(groups):
        marks = [_context(header)] if header and index == 0 else []
        if len(groups) > 1 and index > 0:
            marks.append(_context(f"(part {index + 1} of {len(groups)})"))
        blocks = marks + group or [_context("(empty message)")]
        first = next((_block_text(b) for b in group), None)
        fallback = clip_escaped(escape(first), FALLBACK) if first else header or "(message)"
        chunks.append(Chunk(fallback, blocks))
    return chunks


def _undo(post: PostView) -> list[dict[str, Any]]:
    """The Undo button of a held reply's notice (none on other posts)."""
    if post.undo_number is None:
        return []
    button = {
        "type": "button",
        "action_id": ACTION_UNDO,
        "value": str(post.undo_number),
        "style": "danger",
        "text": _plain("Undo"),
    }
    return [{"type": "actions", "block_id": f"{ACTION_UNDO}:{post.undo_number}", "elements": [button]}]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
