"""SLA reminders in the thread: before the breach, at the breach, exactly once (also across a restart),
business hours, snooze pausing, next response cycles, and what the card shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adapters.local.render import render_card
from bot.clock import ManualClock
from bot.sla.checker import SlaChecker
from storage.models import OutboxRow
from testkit.app import started_app
from testkit.sla import ams, mail, notices, settle, sla_settings
from threadline.app import Threadline

AMS = ZoneInfo("Europe/Amsterdam")


async def _notice_rows(app: Threadline) -> int:
    async with app.store.transaction() as uow:
        stmt = select(func.count(OutboxRow.id)).where(OutboxRow.kind == "notice")
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_warning_then_breach_each_once_and_the_card_shows_it(
    sla_app: Threadline, clock: ManualClock
) -> None:
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    await sla_app.dispatcher.drain()
    assert sla_app.local is not None
    thread = sla_app.local.thread(number)
    assert thread is not None
    assert thread.card.sla_due == ams(2026, 1, 5, 10, 0) and thread.card.sla_state == "ok"
    assert "SLA due Mon 10:00" in render_card(thread.card, ZoneInfo(thread.card.timezone))

    clock.advance(timedelta(minutes=44))
    assert await sla_app.sla.check() == 0
    clock.advance(timedelta(minutes=1))  # 09:45, 15 minutes before the first-response target
    assert await sla_app.sla.check() == 1
    assert await sla_app.sla.check() == 0
    await sla_app.dispatcher.drain()
    assert notices(sla_app, number) == [
        f"⏰ @support-oncall: #{number} first response due in 15 min (Mon 10:00 Europe/Amsterdam)"
    ]
    assert thread.card.sla_state == "warning"

    assert (await sla_app.local.type_line(f"#{number} !claim", "alice")).ok
    clock.advance(timedelta(minutes=15))
    assert await sla_app.sla.check() == 1
    assert await sla_app.sla.check() == 0
    await sla_app.dispatcher.drain()
    assert notices(sla_app, number)[1] == (
        f"🚨 @Alice Martin: #{number} first response target breached at Mon 10:00 (Europe/Amsterdam)"
    )
    assert thread.card.sla_state == "breached"
    assert "⚠ breached" in render_card(thread.card, ZoneInfo(thread.card.timezone))

    assert (await sla_app.local.type_line(f"#{number} !reply On its way!", "alice")).ok
    await sla_app.dispatcher.drain()
    assert thread.card.sla_state == "ok"  # only the resolution clock runs now: 2d = 48 business hours
    assert thread.card.sla_due == ams(2026, 1, 13, 17, 0)  # six 8-hour working days, 6 Jan skipped
    clock.advance(timedelta(hours=5))
    assert await sla_app.sla.check() == 0
    async with sla_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        sent = [(r.target, r.level, r.late) for r in await uow.schedule.reminders_of(conversation.id)]
    assert sent == [("first_response", "warning", False), ("first_response", "breach", False)]


async def test_missed_while_down_sent_once_on_start_and_never_again(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings()
    first = await started_app(settings, clock)
    number = (await first.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    await first.dispatcher.drain()
    await first.stop()

    clock.advance(timedelta(minutes=90))  # warning (09:45) and breach (10:00) passed while down
    second = Threadline(settings, clock=clock)
    await second.start()
    await settle(second)
    assert notices(second, number) == [
        f"🚨 @support-oncall: #{number} first response target breached at Mon 10:00 (Europe/Amsterdam)"
        " · sent late, 30 min after the fact (Threadline was not running)"
    ]
    async with second.store.transaction() as uow:  # the warning was never posted: not recorded as sent
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        sent = [(r.target, r.level, r.late) for r in await uow.schedule.reminders_of(conversation.id)]
    assert sent == [("first_response", "breach", True)]
    await second.stop()

    third = Threadline(settings, clock=clock)
    await third.start()
    await settle(third)
    assert await third.sla.check() == 0
    assert await _notice_rows(third) == 1
    await third.stop()


async def test_a_warning_due_while_another_instance_takes_over_is_posted_on_time(
    sla_app: Threadline, clock: ManualClock
) -> None:
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    clock.set(ams(2026, 1, 5, 9, 44, 58))
    assert await sla_app.sla.run() == 0  # this instance holds the SLA check's lease, then dies
    lease = sla_app.sla.lease.total_seconds()
    assert lease == sla_app.settings.ops.lease_seconds
    other = SlaChecker(sla_app.store, sla_app.settings, clock, lambda: None, holder="b", lease_seconds=lease)
    clock.advance(timedelta(seconds=3))  # 09:45:01: the warning is due, the lease still runs
    assert await other.run() == 0
    while await other.run() == 0:  # the other instance checks every third of a lease
        clock.advance(timedelta(seconds=lease / 3))
    assert clock.now() - ams(2026, 1, 5, 9, 45) <= timedelta(seconds=lease * 4 / 3 + 1)
    await sla_app.dispatcher.drain()
    assert notices(sla_app, number) == [
        f"⏰ @support-oncall: #{number} first response due in 15 min (Mon 10:00 Europe/Amsterdam)"
    ]


async def test_business_hours_holiday_and_weekend(sla_app: Threadline, clock: ManualClock) -> None:
    clock.set(ams(2026, 1, 5, 16, 30))  # Monday 16:30; Tuesday 6 January is a holiday
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    clock.set(ams(2026, 1, 9, 16, 45))  # Friday 16:45
    await sla_app.ingestor.ingest(mail(when=clock.now(), sender="sam@example.org", name="Sam"))
    async with sla_app.store.transaction() as uow:
        monday = await uow.conversations.conversation_by_number(number)
        friday = await uow.conversations.conversation_by_number(number + 1)
        assert monday is not None and friday is not None
        assert monday.first_response_due == ams(2026, 1, 7, 9, 30)
        assert friday.first_response_due == ams(2026, 1, 12, 9, 45)


async def test_snooze_pauses_the_clocks(sla_app: Threadline, clock: ManualClock) -> None:
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    clock.advance(timedelta(minutes=30))
    assert sla_app.local is not None
    assert (await sla_app.local.type_line(f"#{number} !snooze 2h", "alice")).ok
    await sla_app.dispatcher.drain()
    thread = sla_app.local.thread(number)
    assert thread is not None and thread.card.sla_due is None
    clock.advance(timedelta(hours=2))  # 11:30: the snooze ends
    assert await sla_app.waker.wake_due() == 1
    await sla_app.dispatcher.drain()
    assert thread.card.sla_due == ams(2026, 1, 5, 12, 0)  # 10:00 + the two paused hours
    clock.set(ams(2026, 1, 5, 11, 40))
    assert await sla_app.sla.check() == 0
    clock.set(ams(2026, 1, 5, 11, 45))
    assert await sla_app.sla.check() == 1


async def test_next_response_runs_per_customer_message(sla_app: Threadline, clock: ManualClock) -> None:
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    local = sla_app.local
    assert local is not None
    assert (await local.type_line(f"#{number} !reply Looking into it", "alice")).ok
    await sla_app.dispatcher.drain()
    clock.set(ams(2026, 1, 5, 10, 0))
    await sla_app.ingestor.ingest(mail("Any news?", when=clock.now(), conversation_hint=number))
    async with sla_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        assert conversation.first_response_due is None
        assert conversation.next_response_due == ams(2026, 1, 5, 12, 0)
    clock.set(ams(2026, 1, 5, 11, 45))
    assert await sla_app.sla.check() == 1
    clock.set(ams(2026, 1, 5, 11, 50))
    assert (await local.type_line(f"#{number} !reply Tomorrow", "alice")).ok
    await sla_app.dispatcher.drain()
    clock.set(ams(2026, 1, 5, 13, 0))
    await sla_app.ingestor.ingest(
        mail("Thanks. And the invoice?", when=clock.now(), conversation_hint=number)
    )
    clock.set(ams(2026, 1, 5, 14, 45))  # a new cycle: its own warning, again once
    assert await sla_app.sla.check() == 1
    assert await sla_app.sla.check() == 0
    await sla_app.dispatcher.drain()
    assert [n.split(" due in ")[0] for n in notices(sla_app, number)] == [
        f"⏰ @support-oncall: #{number} next response",
        f"⏰ @support-oncall: #{number} next response",
    ]


async def test_close_stops_and_reopen_restarts_resolution(sla_app: Threadline, clock: ManualClock) -> None:
    number = (await sla_app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
    local = sla_app.local
    assert local is not None
    assert (await local.type_line(f"#{number} !close", "alice")).ok
    async with sla_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        assert conversation.sla_next_at is None and conversation.resolution_due is None
    clock.set(ams(2026, 1, 7, 10, 0))  # Wednesday
    assert await sla_app.sla.check() == 0
    assert (await local.type_line(f"#{number} !reopen", "alice")).ok
    async with sla_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        assert conversation.resolution_due == ams(2026, 1, 15, 10, 0)  # 48 business hours from the reopen
        assert conversation.first_response_due == ams(2026, 1, 7, 11, 0)  # paused while closed: 1 h left


async def test_breach_is_also_posted_to_the_escalation_channel(tmp_path: Path, clock: ManualClock) -> None:
    settings = sla_settings(
        f"sqlite:///{tmp_path}/t.db", tmp_path / "out", sla_extra='escalation_channel = "escalations"'
    ).settings()
    app = await started_app(settings, clock)
    try:
        number = (await app.ingestor.ingest(mail(when=clock.now()))).conversation_number or 0
        clock.advance(timedelta(minutes=45))
        assert await app.sla.check() == 1  # the warning stays in the thread
        clock.advance(timedelta(minutes=15))
        assert await app.sla.check() == 1
        await app.dispatcher.drain()
        assert app.local is not None
        [(channel, post, thread)] = app.local.channel_posts
        assert channel == "escalations"
        assert post.text == notices(app, number)[-1]
        assert post.text.startswith(f"🚨 @support-oncall: #{number} first response target breached")
        assert thread is not None and thread.thread_id == f"support/{number}"
    finally:
        await app.stop()
