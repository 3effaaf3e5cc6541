"""Batched delivery: a claimed batch is read in one transaction and its outcomes committed together.

What the team sees must not change: every thread once with its post, a row that waited shows what
is true when it goes out, a post that fails after its card went up keeps that thread, and one
outcome that cannot be recorded does not hold back the others of its group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from adapters.local import LocalSurface
from bot.clock import ManualClock
from bot.outbox.batch_read import FRESH_SECONDS
from bot.outbox.group_commit import Delivered, GroupCommit
from bot.ports import ThreadRef, TransientDeliveryError
from bot.views import CardView, PostView
from storage.models import OutboxRow, ThreadRow
from storage.repo_threads import NewThread
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import make_settings
from threadline.app import Threadline


def _engine(app: Threadline) -> Any:
    store: Any = app.store
    return store._sync_engine if store.is_sqlite else store._async_engine.sync_engine


async def _count(app: Threadline, stmt: Any) -> int:
    async with app.store.transaction() as uow:
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_a_batch_is_read_and_recorded_in_a_few_transactions(
    any_app: Threadline, clock: ManualClock
) -> None:
    for n in range(20):
        await any_app.ingestor.ingest(
            email_in(sender=f"c{n}@example.org", subject=f"Order {n}", when=clock.now())
        )
    begins: list[int] = []
    engine = _engine(any_app)

    def began(*_: Any) -> None:
        begins.append(1)

    event.listen(engine, "begin", began)
    try:
        await any_app.dispatcher.drain()
    finally:
        event.remove(engine, "begin", began)
    local = any_app.local
    assert local is not None
    for n in range(20):
        thread = local.thread(n + 1)
        assert thread is not None and thread.card.subject == f"Order {n}"
        assert thread.texts("inbound") == ["Hello"]
    assert len(local.threads) == 20
    assert await _count(any_app, select(func.count(ThreadRow.id))) == 20
    pending = select(func.count(OutboxRow.id)).where(OutboxRow.status == "pending")
    assert await _count(any_app, pending) == 0
    # claim and read, the group commit(s), the claim that finds nothing: not three per row as before
    assert len(begins) <= 6, len(begins)


class SlowFirstCard(LocalSurface):
    """Opening the first thread takes longer than a batch read stays fresh, and meanwhile someone
    renames the next conversation."""

    def __init__(self, app: Threadline) -> None:
        super().__init__()
        self.app = app

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        if card.number == 1:
            async with self.app.store.transaction() as uow:
                (await uow.conversations.conversation(2)).subject = "Renamed while waiting"
            await asyncio.sleep(FRESH_SECONDS + 0.2)
        return await super().create_thread(chat_channel, card)


async def test_a_row_that_waited_in_its_lane_shows_what_is_true_when_it_goes_out(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = await started_app(make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out"), clock)
    surface = SlowFirstCard(app)
    app.surfaces["local"] = surface
    for n in range(2):
        await app.ingestor.ingest(
            email_in(sender=f"c{n}@example.org", subject=f"Order {n}", when=clock.now())
        )
    await app.dispatcher.drain()
    second = surface.thread(2)
    assert second is not None and second.card.subject == "Renamed while waiting"
    await app.stop()


class PostFailsOnce(LocalSurface):
    """The card goes up; the first post into the new thread fails like an outage."""

    def __init__(self) -> None:
        super().__init__()
        self.cards = 0
        self.failed = False

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        self.cards += 1
        return await super().create_thread(chat_channel, card)

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        if not self.failed:
            self.failed = True
            raise TransientDeliveryError("503 from the platform")
        return await super().post(ref, post)


async def test_a_post_that_fails_after_its_card_went_up_keeps_the_thread(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = await started_app(make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out"), clock)
    surface = PostFailsOnce()
    app.surfaces["local"] = surface
    await app.ingestor.ingest(email_in(when=clock.now()))
    await app.dispatcher.drain()
    assert await _count(app, select(func.count(ThreadRow.id))) == 1  # stored although the row failed
    clock.advance(timedelta(seconds=app.settings.outbox.backoff_max_seconds + 1))  # past the backoff
    await app.dispatcher.drain()
    thread = surface.thread(1)
    assert thread is not None and thread.texts("inbound") == ["Hello"]
    assert surface.cards == 1 and len(surface.threads) == 1
    await app.stop()


async def test_one_outcome_that_cannot_be_recorded_does_not_hold_back_its_group(
    app: Threadline, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(3):
        await app.ingestor.ingest(email_in(sender=f"c{n}@example.org", when=clock.now()))
    async with app.store.transaction() as uow:
        rows = await uow.outbox.claim_outbox(clock.now(), clock.now() + timedelta(seconds=60), 10)
    assert len(rows) == 3
    recorded: list[int] = []

    async def after(group: Sequence[Delivered]) -> None:
        recorded.extend(d.row.id for d in group)

    commit = GroupCommit(app.store, app.settings, clock, after)
    bad = NewThread(10**6, "local", "support", "support/x", "support/x/card")  # no such conversation
    for index, row in enumerate(rows):
        commit.add(Delivered(row, f"ext-{row.id}", thread=bad if index == 1 else None))
    with caplog.at_level(logging.ERROR):
        await commit.settle()
    assert sorted(recorded) == sorted([rows[0].id, rows[2].id])
    async with app.store.transaction() as uow:
        statuses = [(await uow.outbox.outbox_row(row.id)).status for row in rows]
    assert statuses == ["done", "pending", "done"]  # the bad one comes back after its claim
    assert any(r.getMessage() == "could not record a delivery" for r in caplog.records)
