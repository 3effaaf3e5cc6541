"""Storage on SQLite and the real PostgreSQL: migrations, constraints, counters, outbox claiming."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from storage import Conflict, Store
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Conversation, Message


async def _migrated(url: str) -> Store:
    await upgrade(url)
    return Store(url)


async def test_migrations_reach_head_and_are_idempotent(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()


async def test_counter_reservations_are_unique_and_leave_no_gaps(db_url: str) -> None:
    store = await _migrated(db_url)
    firsts = []
    for _ in range(3):
        async with store.transaction() as uow:
            firsts.append(await uow.counters.take_numbers(2))
    assert firsts == [1, 3, 5]
    async with store.transaction() as uow:
        first = await uow.counters.take_numbers(5)  # 7..11, only 7 used
        await uow.counters.return_numbers(first + 1, first + 4)
    async with store.transaction() as uow:
        assert await uow.counters.take_numbers(1) == 8
        await uow.counters.return_numbers(9, 12)  # not the end of the counter any more: nothing given back
        assert await uow.counters.take_numbers(1) == 9
    await store.close()


async def test_external_id_unique_per_channel(db_url: str, clock: ManualClock) -> None:
    store = await _migrated(db_url)
    async with store.transaction() as uow:
        contact = uow.contacts.create_contact("Jane", "email", "jane@example.org", clock.now())
        conv = Conversation(
            number=await uow.counters.take_numbers(1),
            inbox="support",
            channel="email",
            contact=contact,
            subject="s",
            status="open",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        uow.add(conv)
        await uow.flush()
        uow.messages.new_message(conv, "inbound", clock.now(), channel="email", external_id="<x@y>", text="a")
        uow.messages.new_message(
            conv, "inbound", clock.now(), channel="whatsapp", external_id="<x@y>", text="b"
        )
        uow.messages.new_message(conv, "note", clock.now(), text="no external id")
        uow.messages.new_message(conv, "note", clock.now(), text="none either")
    with pytest.raises(Conflict):
        async with store.transaction() as uow:
            uow.add(
                Message(
                    uid="u" * 32,
                    conversation_id=conv.id,
                    kind="inbound",
                    channel="email",
                    external_id="<x@y>",
                    text="dup",
                    created_at=clock.now(),
                )
            )
    await store.close()


async def test_outbox_claims_first_in_line_and_leases(db_url: str, clock: ManualClock) -> None:
    store = await _migrated(db_url)
    now = clock.now()
    async with store.transaction() as uow:
        contact = uow.contacts.create_contact(None, "email", "a@b.c", now)
        conv = Conversation(
            number=1,
            inbox="support",
            channel="email",
            contact=contact,
            subject="s",
            status="open",
            created_at=now,
            updated_at=now,
        )
        uow.add(conv)
        await uow.flush()
        for kind in ("card", "post", "post"):
            await uow.outbox.enqueue(conv, "surface:local", kind, now)
        await uow.outbox.enqueue(conv, "channel:email", "send", now)
    async with store.transaction() as uow:
        first = await uow.outbox.claim_outbox(now, now + timedelta(seconds=60), 10)
    assert sorted((r.destination, r.kind) for r in first) == [
        ("channel:email", "send"),
        ("surface:local", "card"),
    ]
    async with store.transaction() as uow:
        assert (
            await uow.outbox.claim_outbox(now, now + timedelta(seconds=60), 10) == []
        )  # leased, and in line
        pending, age = await uow.outbox.outbox_stats(now + timedelta(seconds=5))
    assert pending == 4 and age == 5.0
    await store.close()


async def test_event_keys_dedupe(db_url: str, clock: ManualClock) -> None:
    store = await _migrated(db_url)
    async with store.transaction() as uow:
        assert await uow.cursors.first_time("slack:Ev1", clock.now())
    async with store.transaction() as uow:
        assert not await uow.cursors.first_time("slack:Ev1", clock.now())
    await store.close()


async def test_unreachable_database_is_reported(clock: ManualClock) -> None:
    from storage.db import DatabaseUnavailable

    store = Store("postgresql://nobody@127.0.0.1:1/none")
    assert not await store.ping()
    with pytest.raises(DatabaseUnavailable, match="cannot reach the database"):
        async with store.transaction() as uow:
            await uow.ping()
    await store.close()
