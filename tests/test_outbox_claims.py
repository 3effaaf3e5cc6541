"""A claimed outbox row whose claim ran out before its delivery started (it waited for a slot, or for
an ingest burst) is not delivered by the instance that lost it: another instance may have claimed
it and be posting it already. Two instances must never both post one card."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.local import LocalSurface
from bot.clock import ManualClock
from bot.outbox.claims import ClaimKeeper
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import make_settings


async def test_a_row_taken_over_while_waiting_is_not_delivered_twice(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out")
    app = await started_app(settings, clock)
    surface = app.local
    assert isinstance(surface, LocalSurface)
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    taken: list[int] = []

    async def another_instance_takes_over() -> None:
        """While this instance waits, its claim runs out and another instance claims the row."""
        if taken:
            return
        clock.advance(timedelta(seconds=settings.ops.claim_seconds + 1))
        async with app.store.transaction() as uow:
            lease = clock.now() + timedelta(seconds=settings.ops.claim_seconds)
            taken.extend(row.id for row in await uow.outbox.claim_outbox(clock.now(), lease, 50))

    app.dispatcher.yield_to = another_instance_takes_over
    await app.dispatcher.run_once()
    assert taken, "the other instance should have claimed the row"
    assert surface.thread(result.conversation_number or 0) is None  # not posted by the one that lost it
    app.dispatcher.yield_to = None
    clock.advance(timedelta(seconds=settings.ops.claim_seconds + 1))  # the other one died too
    await app.dispatcher.drain()
    thread = surface.thread(result.conversation_number or 0)
    assert thread is not None and [p.kind for p in thread.posts] == ["inbound"]
    assert len(surface.threads) == 1
    await app.stop()


async def test_a_claim_held_through_a_slow_delivery_is_renewed_not_taken_over(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out")
    app = await started_app(settings, clock)
    await app.ingestor.ingest(email_in(when=clock.now()))
    claim = timedelta(seconds=settings.ops.claim_seconds)
    async with app.store.transaction() as uow:
        rows = await uow.outbox.claim_outbox(clock.now(), clock.now() + claim, 50)
    assert rows
    keeper = ClaimKeeper(app.store, clock, settings.ops.claim_seconds)
    async with keeper.holding(rows):
        for _ in range(5):  # a delivery (paced, slow platform) taking five claims' time
            clock.advance(claim * 0.9)
            await keeper.renew()
            async with app.store.transaction() as uow:
                assert not await uow.outbox.claim_outbox(clock.now(), clock.now() + claim, 50)  # still ours
        keeper.release(rows[0])
    clock.advance(claim + timedelta(seconds=1))  # released (this instance died): another takes it over
    async with app.store.transaction() as uow:
        assert [row.id for row in await uow.outbox.claim_outbox(clock.now(), clock.now() + claim, 50)][
            :1
        ] == [rows[0].id]
    await app.stop()
