"""No silent waits: rate-limited deliveries are counted and, past a threshold, shown in the thread.

A destination that answers "slow down" (Slack or Discord 429, WhatsApp 130429/131056, an SMTP
4xx) makes a row wait; the waits are counted per row (``outbox_waits``). Once a row has waited
``[outbox] queued_notice_seconds`` (default 120) the thread gets ONE "queued: <platform> is
rate-limiting, retrying" notice, and when the row then goes through, ONE "sent" notice (a final
failure is shown by ``outcomes.show_failure``). Both are written in the transaction that records
the attempt, so a restart neither repeats nor loses them.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.effects import NOTICE, Effects
from bot.runtime import metrics
from storage import UnitOfWork
from storage.models import OutboxRow
from storage.repo_sends import OutboxWaitRow

__all__ = ["count_rate_limit", "sent_after_wait"]


async def _notice(uow: UnitOfWork, settings: Settings, row: OutboxRow, text: str, now: datetime) -> None:
    if row.conversation_id is None:  # a digest: no thread to tell
        return
    conversation = await uow.conversations.conversation(row.conversation_id)
    await Effects(uow, conversation, settings.inbox(conversation.inbox), now).notice(text)


async def count_rate_limit(uow: UnitOfWork, settings: Settings, row: OutboxRow, now: datetime) -> None:
    """The destination rate-limited ``row``: count it; past the threshold, write the queued notice once."""
    wait = await uow.sends.count_wait(row.id, now)
    metrics.inc(metrics.RATE_LIMITED, destination=row.destination)
    waited = (now - wait.limited_since).total_seconds()
    if wait.queued_notice_at is not None or waited < settings.outbox.queued_notice_seconds:
        return
    wait.queued_notice_at = now
    if row.kind != NOTICE:  # a notice about a notice helps no one
        text = f"queued: {settings.destination_label(row.destination)} is rate-limiting, retrying"
        await _notice(uow, settings, row, text, now)


async def sent_after_wait(
    uow: UnitOfWork, settings: Settings, row: OutboxRow, wait: OutboxWaitRow | None, now: datetime
) -> None:
    """``row`` was delivered (``wait``: its waits, if it ever waited): when its thread was told it was
    queued, say once that it went out."""
    if wait is None or wait.queued_notice_at is None or row.kind == NOTICE:
        return
    what = "the reply" if row.destination.startswith("channel:") else "the queued update"
    platform = settings.destination_label(row.destination)
    text = f"sent: {what} went through after {wait.rate_limits} rate-limit answers from {platform}"
    await _notice(uow, settings, row, text, now)
