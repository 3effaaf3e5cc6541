"""The intake journal on SQLite and PostgreSQL: once per key, bad entries kept, retries, dead claims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.ingest.journal import BadEntry, IntakeClosed, Journal, JournalItem
from storage import Store
from storage.journal import JournalEntry
from storage.migrate import upgrade


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated store."""
    await upgrade(db_url)
    handle = Store(db_url)
    yield handle
    await handle.close()


async def _entries(store: Store) -> list[JournalEntry]:
    async with store.transaction() as uow:
        return list((await uow.session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars())


async def test_a_bad_entry_is_kept_failed_with_its_error_and_the_ones_after_it_are_processed(
    store: Store, clock: ManualClock
) -> None:
    seen: list[bytes] = []

    async def handler(item: JournalItem) -> None:
        if item.payload == b"garbage":
            raise BadEntry("the webhook body is not JSON")
        seen.append(item.payload)

    journal = Journal(store, clock, "a")
    journal.handle("whatsapp", handler)
    for payload in (b"one", b"garbage", b"two"):
        await journal.record("whatsapp", payload)
    await journal.idle()
    assert seen == [b"one", b"two"]
    rows = await _entries(store)
    assert [(r.payload, r.state, r.error) for r in rows] == [
        (b"one", "done", None),
        (b"garbage", "failed", "the webhook body is not JSON"),
        (b"two", "done", None),
    ]


async def test_a_failing_entry_is_retried_with_backoff_then_kept_as_failed(
    store: Store, clock: ManualClock
) -> None:
    async def handler(item: JournalItem) -> None:
        raise RuntimeError("database of a plugin is down")

    journal = Journal(store, clock, "a", max_attempts=2)
    journal.handle("slack", handler)
    await journal.record("slack", b"{}")
    assert await journal.run_once() == 1
    (row,) = await _entries(store)
    assert (row.state, row.attempts, row.error) == (
        "pending",
        1,
        "RuntimeError: database of a plugin is down",
    )
    assert await journal.run_once() == 0  # waiting for its retry
    clock.advance(timedelta(seconds=3))
    assert await journal.run_once() == 1
    (row,) = await _entries(store)
    assert (row.state, row.attempts) == ("failed", 2)


async def test_a_source_nobody_handles_is_kept_as_failed_naming_it(store: Store, clock: ManualClock) -> None:
    journal = Journal(store, clock, "a")
    await journal.record("discord", b"{}")
    await journal.idle()
    (row,) = await _entries(store)
    assert row.state == "failed" and "'discord'" in (row.error or "")


async def test_a_redelivery_with_the_same_key_is_journaled_once(store: Store, clock: ManualClock) -> None:
    journal = Journal(store, clock, "a")
    await journal.record("slack", b"first", key="message:Ev1")
    await journal.record("slack", b"again", key="message:Ev1")
    await journal.record("slack", b"other", key="message:Ev2")
    assert [r.payload for r in await _entries(store)] == [b"first", b"other"]


async def test_after_close_nothing_is_accepted(store: Store, clock: ManualClock) -> None:
    journal = Journal(store, clock, "a")
    await journal.close()
    with pytest.raises(IntakeClosed):
        await journal.record("whatsapp", b"late")
    assert await _entries(store) == []


async def test_the_claims_of_a_dead_instance_run_out_and_another_takes_over(
    store: Store, clock: ManualClock
) -> None:
    processed: list[str] = []

    async def handler(item: JournalItem) -> None:
        processed.append(item.payload.decode())

    dead = Journal(store, clock, "dead")
    await dead.record("whatsapp", b"claimed by the dead one")
    now = clock.now()
    async with store.transaction() as uow:  # the dead instance claimed it, then died
        assert len(await uow.journal.claim("dead", now, now + dead.claim, 10)) == 1
    other = Journal(store, clock, "other")
    other.handle("whatsapp", handler)
    assert await other.run_once() == 0
    clock.advance(timedelta(seconds=11))
    assert await other.run_once() == 1
    assert processed == ["claimed by the dead one"]
    assert [r.state for r in await _entries(store)] == ["done"]


async def test_done_entries_are_pruned_after_a_week_and_failed_ones_are_kept(
    store: Store, clock: ManualClock
) -> None:
    async def handler(item: JournalItem) -> None:
        if item.payload == b"bad":
            raise BadEntry("unknown shape")

    journal = Journal(store, clock, "a")
    journal.handle("whatsapp", handler)
    await journal.record("whatsapp", b"good")
    await journal.record("whatsapp", b"bad")
    await journal.start()
    await journal.idle()
    clock.advance(timedelta(days=8))
    await journal.record("whatsapp", b"new")
    await journal.idle()
    await journal.stop()
    assert [(r.payload, r.state) for r in await _entries(store)] == [(b"bad", "failed"), (b"new", "done")]
