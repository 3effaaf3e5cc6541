"""Rendering of cards and thread posts for Discord: embeds, message splitting, attachment lists.

Pure functions, no network: the surface sends what these build. Discord's limits:
message content 2,000 characters, embed description 4,096, embed author and title
256, ten files per message; a thread name is at most 100 characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.views import AttachmentView, CardView, PostView

__all__ = [
    "CONTENT_LIMIT",
    "DESCRIPTION_LIMIT",
    "FILES_PER_MESSAGE",
    "UPLOAD_LIMIT",
    "OutgoingMessage",
    "card_embed",
    "post_messages",
    "split_text",
    "thread_name",
]

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FILES_PER_MESSAGE = 10
UPLOAD_LIMIT = 10 * 1024 * 1024
"""Attachments above this are listed, not uploaded (Discord's default limit for bots without boosts)."""

_STATUS_COLOUR = {"open": 0x3BA55D, "snoozed": 0x99AAB5, "closed": 0x4F545C}
_KIND_COLOUR = {"inbound": 0x5865F2, "outbound": 0x3BA55D, "note": 0xFAA61A}
_CHANNEL_ICON = {"email": "✉", "whatsapp": "☏"}
_SLA_MARK = {"warning": "⏳ ", "breached": "🔥 "}


@dataclass
class OutgoingMessage:
    """One Discord message to send: plain content and/or one embed, and files to upload with it."""

    content: str | None = None
    embed: discord.Embed | None = None
    files: list[AttachmentView] = field(default_factory=list)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at a paragraph, line or word break."""
    text = text.strip()
    if not text:
        return [""]
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces


def thread_name(card: CardView) -> str:
    """The thread (or forum post) title: ``#42 · Jane Doe · Refund for order 1881``."""
    return _cut(f"#{card.number} · {card.customer} · {card.subject or '(no subject)'}", 100)


def _local(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %H:%M} ({zone})"


def card_embed(card: CardView) -> discord.Embed:
    """The card: number, channel, customer, subject, status, assignee, labels, priority, snooze and SLA."""
    icon = _CHANNEL_ICON.get(card.channel, "•")
    embed = discord.Embed(
        title=_cut(f"#{card.number} · {icon} {card.channel} · {card.customer_address}", 256),
        description=_cut(f'"{card.subject}"' if card.subject else "(no subject)", DESCRIPTION_LIMIT),
        colour=_STATUS_COLOUR.get(card.status, 0x99AAB5),
    )
    status = card.status
    if card.snoozed_until is not None:
        status += f" until {_local(card.snoozed_until, card.timezone)}"
    embed.add_field(name="Status", value=_cut(status, 1024), inline=True)
    embed.add_field(name="Assignee", value=_cut(card.assignee or "—", 1024), inline=True)
    embed.add_field(name="Labels", value=_cut(", ".join(card.labels) or "—", 1024), inline=True)
    if card.priority != "normal":
        embed.add_field(name="Priority", value=card.priority, inline=True)
    if card.sla_due is not None:
        due = _SLA_MARK.get(card.sla_state, "") + _local(card.sla_due, card.timezone)
        embed.add_field(name="SLA due", value=due, inline=True)
    footer = f"{card.inbox} · {card.customer}"
    if card.last_activity:
        footer += f" · {card.last_activity}"
    embed.set_footer(text=_cut(footer, 2048))
    return embed


def _attachment_lines(post: PostView) -> tuple[list[AttachmentView], list[str]]:
    uploads: list[AttachmentView] = []
    lines: list[str] = []
    for attachment in post.attachments:
        if attachment.data is not None and attachment.size <= UPLOAD_LIMIT:
            uploads.append(attachment)
            continue
        reason = attachment.note or ("too large to upload" if attachment.data is not None else "not kept")
        size = f"{attachment.size} bytes"
        lines.append(f"📎 {attachment.filename} · {attachment.content_type} · {size} ({reason})")
    return uploads, lines


def _embed_posts(post: PostView, author: str, colour: int) -> list[OutgoingMessage]:
    uploads, lines = _attachment_lines(post)
    text = post.text
    if lines:
        text = (text.rstrip() + "\n\n" + "\n".join(lines)).strip()
    chunks = split_text(text, DESCRIPTION_LIMIT)
    messages: list[OutgoingMessage] = []
    for index, chunk in enumerate(chunks):
        embed = discord.Embed(description=chunk or "(empty)", colour=colour, timestamp=post.created_at)
        name = author if len(chunks) == 1 else f"{author} ({index + 1}/{len(chunks)})"
        embed.set_author(name=_cut(name, 256))
        messages.append(OutgoingMessage(embed=embed))
    if post.channel and messages[-1].embed is not None:
        messages[-1].embed.set_footer(text=post.channel)
    _attach(messages, uploads)
    return messages


def _attach(messages: list[OutgoingMessage], uploads: list[AttachmentView]) -> None:
    """Put files on the last message, ten per message, in extra messages when there are more."""
    batches = [uploads[i : i + FILES_PER_MESSAGE] for i in range(0, len(uploads), FILES_PER_MESSAGE)]
    if batches:
        messages[-1].files = batches[0]
        messages.extend(OutgoingMessage(files=batch) for batch in batches[1:])


def _content_posts(head: str, text: str) -> list[OutgoingMessage]:
    body = f"{head}\n{text}".strip() if text else head
    return [OutgoingMessage(content=chunk) for chunk in split_text(body, CONTENT_LIMIT)]


def post_messages(post: PostView) -> list[OutgoingMessage]:
    """The Discord messages that show one thread post (customer messages under the customer's name)."""
    if post.kind == "inbound":
        return _embed_posts(post, post.author, _KIND_COLOUR["inbound"])
    if post.kind == "outbound":
        label = f"↗ sent to customer by {post.author}" + (f" ({post.channel})" if post.channel else "")
        return _embed_posts(post, label, _KIND_COLOUR["outbound"])
    if post.kind == "note":
        messages = _embed_posts(post, f"📝 note by {post.author}", _KIND_COLOUR["note"])
        return messages
    if post.kind == "event":
        return _content_posts(f"-# · {_cut(post.text, CONTENT_LIMIT - 6)}", "")
    return _content_posts(f"⚠ {post.text}", "")
