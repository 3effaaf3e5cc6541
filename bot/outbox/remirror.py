"""Re-mirroring a conversation on a surface: its card and every message again, in order, once.

Nothing here calls a platform: a re-mirror is outbox rows, written in one transaction with the
rows it replaces marked superseded, so the dispatcher delivers it in order and a crash in the
middle resumes where it stopped (every row is delivered once, like any other). Two instances
re-mirroring one conversation at once take turns under its row lock (``uow.repairs.lock_mirror``).

- ``fresh`` (no thread, a card deleted on the platform, or ``threadline resync``): the thread is
  forgotten, a card row opens a new one and every message the thread ever showed is posted
  into it, followed by the notices not yet shown.
- otherwise (the thread still exists, e.g. the bot was invited back): the card is refreshed
  and only what the thread has not shown yet is posted, in the original order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.effects import CARD, CHANNEL_POST, NOTICE, POST, surface_destination
from storage import UnitOfWork
from storage.models import Conversation, Message, OutboxRow

__all__ = ["Remirrored", "remirror"]

_UNDELIVERED = ("pending", "failed", "parked")


@dataclass(frozen=True)
class Remirrored:
    """What a re-mirror wrote: the posts queued again and the rows it superseded."""

    posts: int
    superseded: int


def _again(rows: list[OutboxRow], fresh: bool) -> list[OutboxRow]:
    """The rows whose content is shown again, each once, in the order first written."""
    shown = {r.message_id for r in rows if r.kind == POST and r.status == "done" and not fresh}
    seen: set[int] = set()
    again: list[OutboxRow] = []
    for row in rows:
        if row.kind == POST and row.message_id is not None:
            if row.message_id in shown or row.message_id in seen:
                continue
            seen.add(row.message_id)
            again.append(row)
        elif row.kind in (NOTICE, CHANNEL_POST) and row.status in _UNDELIVERED:
            again.append(row)
    return again


async def remirror(
    uow: UnitOfWork,
    conversation: Conversation,
    surface: str,
    now: datetime,
    *,
    fresh: bool,
    replacing: int | None = None,
) -> Remirrored:
    """Queue the conversation's complete mirror on ``surface`` and supersede the rows it replaces.

    Taken under the conversation's row lock, so two instances re-mirroring it at once take turns;
    ``replacing`` (the row whose delivery found the thread gone): when another instance's re-mirror
    already replaced it, nothing more is queued (the mirror is already complete)."""
    await uow.repairs.lock_mirror(conversation.id)
    destination = surface_destination(surface)
    rows = await uow.repairs.mirror_rows(conversation.id, destination)
    if replacing is not None and any(r.id == replacing and r.status not in _UNDELIVERED for r in rows):
        return Remirrored(posts=0, superseded=0)
    if fresh or await uow.threads.thread_of(conversation.id, surface) is None:
        fresh = True
        await uow.threads.forget_thread(conversation.id, surface)
    again = _again(rows, fresh)
    await uow.repairs.supersede([r.id for r in rows if r.status in _UNDELIVERED])
    await uow.outbox.enqueue(conversation, destination, CARD, now)  # opens the thread when there is none
    messages: dict[int, Message] = {}
    for row in again:
        payload: dict[str, Any] = dict(row.payload or {})
        if row.kind == POST and row.message_id is not None:
            messages[row.message_id] = messages.get(row.message_id) or await uow.messages.message(
                row.message_id
            )
            await uow.outbox.enqueue(conversation, destination, POST, now, message=messages[row.message_id])
        else:
            await uow.outbox.enqueue(conversation, destination, row.kind, now, payload=payload)
    superseded = sum(1 for r in rows if r.status in _UNDELIVERED)
    return Remirrored(posts=sum(1 for r in again if r.kind == POST), superseded=superseded)
