"""Snoozed conversations wake up by themselves at their time (controllable clock)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from testkit.inbound import email_in
from threadline.app import Threadline


async def test_snoozed_conversation_wakes_at_its_time(app: Threadline, clock: ManualClock) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    number = result.conversation_number
    reply = await app.local.type_line(f"#{number} !snooze 2h", "alice")
    assert (
        reply.ok and "snoozed until Mon 05 Jan 12:00" in reply.text
    )  # 11:00 Amsterdam + 2h... in local time
    clock.advance(timedelta(hours=1, minutes=59))
    assert await app.waker.wake_due() == 0
    clock.advance(timedelta(minutes=1))
    assert await app.waker.wake_due() == 1
    await app.dispatcher.drain()
    thread = app.local.thread(number or 0)
    assert thread is not None
    assert thread.card.status == "open"
    assert "snooze ended: back to open" in thread.texts("event")
    assert await app.waker.wake_due() == 0


async def test_snooze_refused_on_closed_and_in_the_past(app: Threadline, clock: ManualClock) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    await app.local.type_line(f"#{result.conversation_number}", "alice")
    past = await app.local.type_line("!snooze 2026-01-01 9:00", "alice")
    assert not past.ok and "in the past" in past.text
    await app.local.type_line("!close", "alice")
    closed = await app.local.type_line("!snooze 1h", "alice")
    assert not closed.ok and "closed; reopen it first" in closed.text
