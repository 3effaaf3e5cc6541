"""Settings and helpers of the scheduler tests (SLA, digests, reports): the SLA settings, a customer mail,
the notices a conversation shows, letting a started app settle, and a day of known data."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.ports.inbound import InboundMessage
from testkit.settings import SettingsBuilder
from threadline.app import Threadline

_ids = itertools.count(1)


def sla_settings(db: str, outdir: Path, *, inbox_extra: str = "", sla_extra: str = "") -> SettingsBuilder:
    """The support inbox with business hours Mon-Fri 09-17 Amsterdam (6 January a holiday) and an SLA of
    1h first response, 2h next response, 2d resolution (warned 15 minutes before), a sales inbox, Alice
    and Bob, and a daily digest of the support inbox at 09:00 on weekdays.

    ``inbox_extra`` is more ``[inboxes.support]`` keys, ``sla_extra`` more ``[inboxes.support.sla]`` keys."""
    return (
        SettingsBuilder(db)
        .local_surface("alice")
        .inbox(
            "support",
            name="Support",
            channel="email",
            address="support@example.com",
            chat_channel="support",
            timezone="Europe/Amsterdam",
        )
        .merge_toml("[inboxes.support]\n" + inbox_extra)
        .set(
            "inboxes.support.sla",
            first_response="1h",
            next_response="2h",
            resolution="2d",
            warn_before="15m",
            on_call="support-oncall",
        )
        .merge_toml("[inboxes.support.sla]\n" + sla_extra)
        .set("inboxes.support.business_hours", holidays=["2026-01-06"])
        .inbox("sales", channel="email", address="sales@example.com", chat_channel="sales")
        .email_to_files(outdir)
        .agent("alice", "Alice Martin", local="alice")
        .agent("bob", "Bob Stone", local="bob")
        .set(
            "digests.daily",
            chat_channel="digests",
            cron="0 9 * * mon-fri",
            timezone="Europe/Amsterdam",
            inboxes=["support"],
            oldest=3,
        )
    )


def mail(text: str = "Hello", *, when: datetime, inbox: str = "support", **fields: Any) -> InboundMessage:
    """A customer email."""
    fields.setdefault("external_id", f"<sla{next(_ids)}@example.org>")
    return InboundMessage(
        channel="email",
        inbox=inbox,
        sender_address=fields.pop("sender", "jane@example.org"),
        sender_name=fields.pop("name", "Jane Doe"),
        received_at=when,
        text=text,
        subject=fields.pop("subject", "Where is my order?"),
        **fields,
    )


def notices(app: Threadline, number: int) -> list[str]:
    """The notices shown in a conversation's local thread."""
    assert app.local is not None
    thread = app.local.thread(number)
    return thread.texts("notice") if thread else []


async def settle(app: Threadline) -> None:
    """After ``app.start()``: wait (bounded) until the missed digests are posted (their build reads
    in a worker thread on SQLite) and the running outbox loop has delivered everything due."""
    import asyncio

    catch_up = [task for task in app._tasks if task.get_name() == "digest-catch-up"]
    await asyncio.wait_for(asyncio.gather(*catch_up), 30)
    for _ in range(1000):
        await app.dispatcher.drain()
        async with app.store.transaction() as uow:
            pending, _age = await uow.outbox.outbox_stats(app.clock.now())
        if pending == 0:
            return
        await asyncio.sleep(0.01)  # a row claimed by the background loop is still on its way
    raise AssertionError("the outbox did not settle")


def ams(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Amsterdam, as UTC."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(
        UTC
    )


async def known_day(app: Threadline, clock: ManualClock) -> None:
    """Monday 5 January, support inbox: five conversations with known fates (and one in sales)."""
    local = app.local
    assert local is not None
    ingest = app.ingestor.ingest
    await ingest(mail("c1", when=clock.now(), sender="c1@example.org"))  # #1
    await ingest(mail("c2", when=clock.now(), sender="c2@example.org"))  # #2
    await ingest(mail("c3", when=clock.now(), sender="c3@example.org"))  # #3
    await ingest(mail("s1", when=clock.now(), sender="s1@example.org", inbox="sales"))  # #4, other inbox
    clock.advance(timedelta(minutes=5))
    await ingest(mail("c5", when=clock.now(), sender="c5@example.org"))  # #5
    clock.advance(timedelta(minutes=5))  # 09:10
    assert (await local.type_line("#1 !claim", "alice")).ok
    assert (await local.type_line("#1 !reply Done", "alice")).ok
    await app.dispatcher.drain()  # first response of #1 after 10 min
    clock.advance(timedelta(minutes=20))  # 09:30
    assert (await local.type_line("#2 !claim", "bob")).ok
    assert (await local.type_line("#2 !label +refund", "bob")).ok
    assert (await local.type_line("#3 !claim", "alice")).ok
    assert (await local.type_line("#3 !label +refund", "alice")).ok
    assert (await local.type_line("#3 !snooze 3d", "alice")).ok
    clock.set(ams(2026, 1, 5, 10, 0))
    assert await app.sla.check() == 2  # #2 breaches its first response, #5 gets its warning, #3 is paused
    clock.set(ams(2026, 1, 5, 11, 0))
    assert (await local.type_line("#1 !close", "alice")).ok  # resolved after 2 h
    await app.dispatcher.drain()
