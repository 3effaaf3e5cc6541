"""Rendering of cards and thread posts for Discord: embeds, message splitting, attachment batches.

Pure functions, no network: the surface sends what these build. Discord's limits (developer
documentation, Message resource, "Embed Limits" and "Create Message"): message content 2,000
characters; embed title and author 256, description 4,096, field value 1,024, footer 2,048, and
6,000 characters across all embeds of a message; a request at most 25 MiB with at most 10 files;
a thread name at most 100 characters. Files above 10 MiB (a server without boosts) are listed,
not uploaded. Customer text is escaped (``adapters.discord.text``) so that it cannot format, and
the customer's name is always marked as the customer's.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from adapters.discord.text import escape, split_text
from bot.ports import PermanentDeliveryError
from bot.views import AttachmentView, CardView, PostView

__all__ = [
    "CONTENT_LIMIT",
    "DESCRIPTION_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "FILES_PER_MESSAGE",
    "REQUEST_FILES_LIMIT",
    "UPLOAD_LIMIT",
    "OutgoingMessage",
    "card_embed",
    "customer_name",
    "embed_size",
    "forum_tags",
    "part_files",
    "part_nonce",
    "post_messages",
    "thread_name",
]

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
FILES_PER_MESSAGE = 10
UPLOAD_LIMIT = 10 * 1024 * 1024
"""Attachments above this are listed, not uploaded (Discord's default limit for bots without boosts)."""
REQUEST_FILES_LIMIT = 25 * 1024 * 1024 - 256 * 1024
"""The bytes of files one message may carry: Discord's 25 MiB per request, less room for the rest."""

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
    undo_number: int | None = None  # a held reply's notice: sent with its Undo button


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ``…`` marking a cut (made where ``split_text`` may cut)."""
    text = text.strip()
    return text if len(text) <= limit else split_text(text, limit - 1)[0] + "…"


def _size_text(size: int) -> str:
    """``9.5 MiB``, ``120 KiB``, ``7 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} bytes"


def customer_name(name: str) -> str:
    """The customer's display name, marked so that no one takes it for a teammate's."""
    return f"{name} (customer)"


def thread_name(card: CardView) -> str:
    """The thread (or forum post) title: ``#42 · Jane Doe · Refund for order 1881``."""
    return _cut(f"#{card.number} · {card.customer} · {card.subject or '(no subject)'}", 100)


def embed_size(embed: discord.Embed) -> int:
    """The characters of ``embed`` that count towards Discord's 6,000 per message."""
    texts = [embed.title, embed.description, embed.footer.text, embed.author.name]
    texts += [t for f in embed.fields for t in (f.name, f.value)]
    return sum(len((t or "").strip()) for t in texts)


def _local(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %H:%M} ({zone})"


def card_embed(card: CardView) -> discord.Embed:
    """The card: number, channel, customer, subject, status, assignee, labels, priority, snooze and SLA."""
    icon = _CHANNEL_ICON.get(card.channel, "•")
    subject = f'"{escape(card.subject)}"' if card.subject else "(no subject)"
    embed = discord.Embed(
        title=_cut(f"#{card.number} · {icon} {card.channel} · {escape(card.customer_address)}", 256),
        colour=_STATUS_COLOUR.get(card.status, 0x99AAB5),
    )
    status = card.status
    if card.snoozed_until is not None:
        status += f" until {_local(card.snoozed_until, card.timezone)}"
    embed.add_field(name="Status", value=_cut(status, 1024), inline=True)
    embed.add_field(name="Assignee", value=_cut(card.assignee or "—", 256), inline=True)
    embed.add_field(name="Labels", value=_cut(", ".join(card.labels) or "—", 1024), inline=True)
    if card.priority != "normal":
        embed.add_field(name="Priority", value=card.priority, inline=True)
    if card.sla_due is not None:
        due = _SLA_MARK.get(card.sla_state, "") + _local(card.sla_due, card.timezone)
        embed.add_field(name="SLA due", value=due, inline=True)
    footer = f"{card.inbox} · {customer_name(_cut(card.customer, 200))}"
    if card.account:
        footer += f" · org {_cut(card.account, 100)}"
    if card.last_activity:
        footer += f" · {card.last_activity}"
    embed.set_footer(text=_cut(footer, 512))
    room = EMBED_TOTAL_LIMIT - embed_size(embed)  # the subject gets what the other parts leave
    embed.description = _cut(subject, min(DESCRIPTION_LIMIT, room))
    return embed


def _attachment_lines(post: PostView) -> tuple[list[AttachmentView], list[str]]:
    uploads: list[AttachmentView] = []
    lines: list[str] = []
    for attachment in post.attachments:
        if attachment.data is not None and attachment.size <= UPLOAD_LIMIT:
            uploads.append(attachment)
            continue
        too_large = f"too large to upload to Discord (over {_size_text(UPLOAD_LIMIT)})"
        reason = attachment.note or (too_large if attachment.data is not None else "not kept")
        name = escape(attachment.filename)
        lines.append(f"📎 {name} · {attachment.content_type} · {_size_text(attachment.size)} ({reason})")
    return uploads, lines


def _embed_posts(post: PostView, author: str, colour: int) -> list[OutgoingMessage]:
    uploads, lines = _attachment_lines(post)
    text = escape(post.text) if post.from_customer else post.text
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


def _batches(uploads: list[AttachmentView]) -> list[list[AttachmentView]]:
    """Files in arrival order, grouped so that each request stays within 10 files and 25 MiB."""
    batches: list[list[AttachmentView]] = []
    size = 0
    for upload in uploads:
        if not batches or len(batches[-1]) == FILES_PER_MESSAGE or size + upload.size > REQUEST_FILES_LIMIT:
            batches.append([])
            size = 0
        batches[-1].append(upload)
        size += upload.size
    return batches


def _attach(messages: list[OutgoingMessage], uploads: list[AttachmentView]) -> None:
    """Put files on the last message, and in extra messages as Discord's request limits need."""
    batches = _batches(uploads)
    if batches:
        messages[-1].files = batches[0]
        messages.extend(OutgoingMessage(files=batch) for batch in batches[1:])


def _content_posts(head: str, text: str) -> list[OutgoingMessage]:
    body = f"{head}\n{text}".strip() if text else head
    return [OutgoingMessage(content=chunk) for chunk in split_text(body, CONTENT_LIMIT)]


def post_messages(post: PostView) -> list[OutgoingMessage]:
    """The Discord messages that show one thread post (customer messages under the customer's name)."""
    if post.kind == "inbound":
        author = customer_name(_cut(post.author, 200)) if post.from_customer else post.author
        return _embed_posts(post, author, _KIND_COLOUR["inbound"])
    if post.kind == "outbound":
        label = f"↗ sent to customer by {post.author}" + (f" ({post.channel})" if post.channel else "")
        return _embed_posts(post, label, _KIND_COLOUR["outbound"])
    if post.kind == "note":
        messages = _embed_posts(post, f"📝 note by {post.author}", _KIND_COLOUR["note"])
        return messages
    if post.kind == "event":
        return _content_posts(f"-# · {_cut(post.text, CONTENT_LIMIT - 6)}", "")
    notice = _content_posts(f"⚠ {post.text}", "")
    return [replace(notice[0], undo_number=post.undo_number), *notice[1:]]


_TAGS_PER_POST = 5  # a forum post carries at most five tags


def forum_tags(forum: discord.ForumChannel, card: CardView, default: str | None) -> list[discord.ForumTag]:
    """The forum tags matching the card's labels (at most 5), else the configured default tag
    (``surfaces.discord.default_forum_tag``)."""
    wanted = [label.lower() for label in card.labels]
    tags = [tag for tag in forum.available_tags if tag.name.lower() in wanted][:_TAGS_PER_POST]
    if tags or default is None:
        return tags
    fallback = [tag for tag in forum.available_tags if tag.name.lower() == default.lower()][:1]
    if not fallback and forum.flags.require_tag:
        names = ", ".join(tag.name for tag in forum.available_tags) or "none"
        raise PermanentDeliveryError(
            f"surfaces.discord.default_forum_tag '{default}' is not a tag of forum {forum.id} "
            f"(its tags: {names}); set it to one of them"
        )
    return fallback


def part_nonce(post: PostView, index: int) -> str | int:
    """A nonce per part, from the outbox id (a retry after a crash sends the same), else the message uid;
    with ``enforce_nonce`` (discord.py adds it) Discord returns the earlier message (/resources/message)."""
    if post.delivery is not None:
        return f"tl{post.delivery.outbox_id}.{index}"  # 2 + up to 18 digits + 1 + up to 4: within 25
    uid = post.message_uid  # 20 + 1 + up to 4 digits: within Discord's 25
    return f"{uid.replace('-', '')[:20]}:{index}" if uid else time.time_ns() // 1000 * 100 + index


def part_files(outgoing: OutgoingMessage) -> list[discord.File]:
    """The files of one outgoing message, as discord.py sends them."""
    return [discord.File(io.BytesIO(a.data or b""), filename=a.filename) for a in outgoing.files]
