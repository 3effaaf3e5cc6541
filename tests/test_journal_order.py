"""The intake journal keeps the order of one source's entries per ordering key, on SQLite and PostgreSQL.

A thread's `!claim` then `!close`, or one WhatsApp sender's messages, carry one ordering key:
they are processed one after another in the order they were journaled, while entries of other
keys still run concurrently; an entry waiting for its retry holds the later entries of its key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.ingest.journal import Journal, JournalItem
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


async def _states(store: Store) -> list[tuple[bytes, str]]:
    async with store.transaction() as uow:
        rows = (await uow.session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars()
        return [(r.payload, r.state) for r in rows]


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
    assert [state for _, state in await _states(store)] == ["done"] * 6


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
    assert [state for _, state in await _states(store)] == ["done", "done", "done"]


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
