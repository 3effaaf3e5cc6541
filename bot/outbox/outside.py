"""Deliveries outside a conversation's thread: channel notices, digests, deletions and queue views.

The dispatcher hands these rows here; they share its retries, backoff, outage tracking and
pacing (``pace``): a channel notice and a digest add a message to a chat channel and take a
token of its bucket, a deletion adds none and only waits out a ``Retry-After`` block, and so does
a queue view (it replaces a user's App Home or edits a pinned message in place; only the newest
view of a target is pending, ``bot.outbox.queue_views``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.effects import CHANNEL_POST, DIGEST, QUEUE_VIEW, REDACT
from bot.outbox.send_records import keyed
from bot.ports import PermanentDeliveryError, Surface, ThreadRef
from bot.views import PostView, digest_from_payload
from storage import Store
from storage.models import OutboxRow

__all__ = ["OUTSIDE_THREADS", "Pace", "deliver_outside"]

OUTSIDE_THREADS = frozenset({CHANNEL_POST, DIGEST, QUEUE_VIEW, REDACT})
"""The row kinds delivered here."""

Pace = Callable[..., Awaitable[bool]]
"""The dispatcher's pacing: ``pace(surface, chat_channel, edit=False)``, True when it waited."""


async def deliver_outside(store: Store, row: OutboxRow, surface: Surface, pace: Pace) -> str | None:
    """Deliver one row of a kind in ``OUTSIDE_THREADS``; return the platform's id (None: a deletion)."""
    if row.kind == CHANNEL_POST:
        return await _channel_post(store, row, surface, pace)
    if row.kind == DIGEST:
        chat_channel = str(row.payload.get("chat_channel", ""))
        await pace(surface, chat_channel)
        return str(await surface.post_digest(chat_channel, digest_from_payload(row.payload["digest"])))
    if row.kind == REDACT:  # a forgotten contact's mirrored post
        payload = row.payload
        ref = ThreadRef(str(payload.get("chat_channel", "")), str(payload.get("thread_id", "")), "")
        await pace(surface, ref.chat_channel, edit=True)
        await surface.redact(ref, str(payload.get("item_id", "")))
        return None
    if row.kind == QUEUE_VIEW:
        target = str(row.payload.get("target", ""))
        await pace(surface, target, edit=True)
        return await surface.show_queue(target, dict(row.payload.get("view") or {}))
    raise PermanentDeliveryError(f"no delivery outside threads for a {row.kind} row")


async def _channel_post(store: Store, row: OutboxRow, surface: Surface, pace: Pace) -> str:
    """Post a notice to a chat channel (not a thread), with a link to the conversation's thread.

    A surface that refuses raises ``PermanentDeliveryError``; the thread already has the same notice.
    """
    chat_channel = str(row.payload.get("chat_channel", ""))
    thread = None
    if row.conversation_id is not None:
        async with store.transaction() as uow:
            thread = await uow.threads.thread_of(row.conversation_id, surface.name)
    linked = thread is not None and row.payload.get("link", True)  # an outage notice links no thread
    ref = ThreadRef(thread.chat_channel, thread.thread_id, thread.card_id) if thread and linked else None
    text = str(row.payload.get("text", ""))
    post = PostView(kind="notice", author="Threadline", text=text, created_at=row.created_at)
    await pace(surface, chat_channel)
    return str(await surface.post_to_channel(chat_channel, keyed(row, post), ref))
