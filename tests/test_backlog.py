"""Deliveries wait while a backlog is read (ingest first), and a stalled backlog stops holding them back."""

from __future__ import annotations

import asyncio

from bot.clock import ManualClock
from bot.ingest.backlog import Backlogs
from testkit.inbound import email_in
from threadline.app import Threadline


def test_a_backlog_is_active_until_its_last_message_or_until_it_stalls() -> None:
    now = [100.0]
    backlogs = Backlogs(stale_after=2.0, clock=lambda: now[0])
    assert not backlogs.active()
    backlogs.stored("email:support", more_follow=True)
    assert backlogs.active()
    backlogs.stored("email:support", more_follow=False)
    assert not backlogs.active()
    backlogs.stored("email:support", more_follow=True)
    now[0] += 2.5  # the reader died mid-way
    assert not backlogs.active()


async def test_threads_appear_once_the_backlog_is_stored(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(email_in(subject="One", more_follow=True, when=clock.now()))
    await app.ingestor.ingest(email_in(subject="Two", more_follow=True, when=clock.now()))
    delivering = asyncio.create_task(app.dispatcher.drain())
    await asyncio.sleep(0.3)  # long enough to mirror two messages, far below the 2 s a stalled backlog waits
    assert local.thread(first.conversation_number or 0) is None
    last = await app.ingestor.ingest(email_in(subject="Three", when=clock.now()))
    await asyncio.wait_for(delivering, 30)
    await app.dispatcher.drain()
    assert local.thread(first.conversation_number or 0) is not None
    assert local.thread(last.conversation_number or 0) is not None
