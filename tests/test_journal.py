"""The intake journal on SQLite and PostgreSQL: once per key, bad entries kept, retries, dead claims,
and the order of entries sharing an ordering key.

A thread's `!claim` then `!close`, or one WhatsApp sender's messages, carry one ordering key: they are
processed one after another in the order they were journaled, while entries of other keys still run
concurrently; an entry waiting for its retry holds the later entries of its key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
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


async def test_entries_of_one_key_run_in_order_and_other_keys_run_alongside(
    store: Store, clock: ManualClock
) -> None:
    started: list[str] = []
    finished: list[str] = []
    running: set[str] = set()
    overlapped: list[tuple[str, str]] = []

    async def handler(item: JournalItem) -> None:
        name = item.payload.decode()
        for other in running:
            overlapped.append((other, name))
        running.add(name)
        started.append(name)
        # the first entry of a key takes longest: without ordering, the later ones overtake it
        await asyncio.sleep(0.05 if name.endswith("1") else 0.0)
        running.discard(name)
        finished.append(name)

    journal = Journal(store, clock, "a")
    journal.handle("slack", handler)
    for n in (1, 2, 3):
        await journal.record("slack", f"thread-a {n}".encode(), order="C1:100.1")
        await journal.record("slack", f"thread-b {n}".encode(), order="C1:200.1")
    assert await journal.run_once() == 6
    assert [f for f in finished if f.startswith("thread-a")] == ["thread-a 1", "thread-a 2", "thread-a 3"]
    assert [f for f in finished if f.startswith("thread-b")] == ["thread-b 1", "thread-b 2", "thread-b 3"]
    assert not [pair for pair in overlapped if pair[0].split()[0] == pair[1].split()[0]]
    assert ("thread-a 1", "thread-b 1") in overlapped  # the two threads ran concurrently
    assert [r.state for r in await _entries(store)] == ["done"] * 6


async def test_an_entry_waiting_for_its_retry_holds_the_later_entries_of_its_key(
    store: Store, clock: ManualClock
) -> None:
    seen: list[str] = []
    failures = {"claim": 1}

    async def handler(item: JournalItem) -> None:
        name = item.payload.decode()
        if failures.get(name, 0):
            failures[name] -= 1
            raise RuntimeError("a plugin's database blinked")
        seen.append(name)

    journal = Journal(store, clock, "a")
    journal.handle("slack", handler)
    await journal.record("slack", b"claim", order="C1:100.1")
    await journal.record("slack", b"close", order="C1:100.1")
    await journal.record("slack", b"elsewhere", order="C1:200.1")
    assert await journal.run_once() == 3
    assert seen == ["elsewhere"]  # `close` did not overtake the failed `claim`
    assert await journal.run_once() == 0  # both wait for the retry of `claim`
    clock.advance(timedelta(seconds=3))
    assert await journal.run_once() == 2
    assert seen == ["elsewhere", "claim", "close"]
    assert [r.state for r in await _entries(store)] == ["done", "done", "done"]


async def test_entries_without_a_key_are_not_held_by_a_failing_one(store: Store, clock: ManualClock) -> None:
    seen: list[str] = []

    async def handler(item: JournalItem) -> None:
        if item.payload == b"fails":
            raise RuntimeError("down")
        seen.append(item.payload.decode())

    journal = Journal(store, clock, "a")
    journal.handle("whatsapp", handler)
    await journal.record("whatsapp", b"fails")
    await journal.record("whatsapp", b"receipt")
    assert await journal.run_once() == 2
    assert seen == ["receipt"]


async def test_another_instance_does_not_take_a_key_whose_earlier_entry_is_claimed(
    store: Store, clock: ManualClock
) -> None:
    seen: list[tuple[str, str]] = []

    def handler(holder: str) -> Callable[[JournalItem], Awaitable[None]]:
        async def handle(item: JournalItem) -> None:
            seen.append((holder, item.payload.decode()))

        return handle

    first = Journal(store, clock, "first", batch=1)
    second = Journal(store, clock, "second")
    first.handle("whatsapp", handler("first"))
    second.handle("whatsapp", handler("second"))
    await first.record("whatsapp", b"hello", order="wa:15550001")
    await first.record("whatsapp", b"are you there?", order="wa:15550001")
    await first.record("whatsapp", b"other sender", order="wa:15550002")
    now = clock.now()
    async with store.transaction() as uow:  # the first instance claimed the sender's first message
        (claimed,) = await uow.journal.claim("first", now, now + first.claim, 1)
    assert claimed.payload == b"hello"
    assert await second.run_once() == 1  # only the other sender's message
    assert seen == [("second", "other sender")]
    clock.advance(timedelta(seconds=11))  # the first instance died: its claim ran out
    assert await second.run_once() == 2
    assert seen[1:] == [("second", "hello"), ("second", "are you there?")]
