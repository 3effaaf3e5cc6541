"""Digests: numbers for a known data set, cron times in the digest's zone, posting once (also on start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.local.render import render_digest
from bot.clock import ManualClock
from bot.digest import cron_trigger, fire_times
from bot.digest.service import CLAIM_STALE
from testkit.app import started_app
from testkit.sla import ams, known_day, mail, settle, sla_settings
from threadline.app import Threadline
from threadline.scheduler import build_scheduler

AMS = ZoneInfo("Europe/Amsterdam")


async def test_digest_numbers_for_a_known_data_set(sla_app: Threadline, clock: ManualClock) -> None:
    await known_day(sla_app, clock)
    clock.set(ams(2026, 1, 6, 9, 0))
    view = await sla_app.digests.build("daily")
    assert view.period_start == ams(2026, 1, 5, 9, 0) and view.period_end == ams(2026, 1, 6, 9, 0)
    assert view.inboxes == ("support",)
    assert (view.open, view.unassigned, view.snoozed, view.breached) == (2, 1, 1, 1)
    assert (view.opened, view.closed) == (4, 1)
    assert view.median_first_response == 600.0
    assert view.median_resolution == 7200.0
    assert view.sla_compliance == 50.0  # #1 kept its promises, #2 breached
    assert [(e.number, e.assignee, e.sla_state) for e in view.oldest] == [
        (2, "Bob Stone", "breached"),
        (5, None, "warning"),
    ]
    assert view.oldest[0].thread_id == "support/2"
    assert dict(view.by_assignee) == {"Bob Stone": 1, "unassigned": 1}  # open ones, like "open 2"
    assert sum(n for _, n in view.by_assignee) == view.open
    assert dict(view.by_assignee)["unassigned"] == view.unassigned
    assert view.by_label == (("refund", 2),)
    text = render_digest(view, ZoneInfo(view.timezone))
    assert "open 2 · unassigned 1 · snoozed 1 · breached 1" in text
    assert "median first response 10 min · median resolution 2 h 00 min · SLA compliance 50 %" in text


def test_cron_fire_times_follow_the_digest_zone_across_dst() -> None:
    trigger = cron_trigger("0 9 * * mon-fri", "Europe/Amsterdam")
    fires = fire_times(trigger, ams(2026, 3, 26, 12, 0), ams(2026, 3, 31, 12, 0))
    assert fires == [ams(2026, 3, 27, 9, 0), ams(2026, 3, 30, 9, 0), ams(2026, 3, 31, 9, 0)]
    assert [f.astimezone(UTC).hour for f in fires] == [8, 7, 7]  # CET, then CEST


async def test_scheduler_has_one_cron_job_per_digest(sla_app: Threadline) -> None:
    scheduler = build_scheduler(sla_app.waker.wake_due, sla=sla_app.sla, digests=sla_app.digests)
    job = scheduler.get_job("digest:daily")
    assert job is not None and job.args == ("daily",)
    after = datetime(2026, 1, 9, 9, 0, tzinfo=AMS)  # Friday 09:00
    assert job.trigger.get_next_fire_time(None, after + timedelta(seconds=1)) == datetime(
        2026, 1, 12, 9, 0, tzinfo=AMS
    )
    assert scheduler.get_job("sla-check") is not None


async def test_digest_posted_once_and_a_missed_one_once_on_start(tmp_path: Path, clock: ManualClock) -> None:
    settings = sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings()
    app = await started_app(settings, clock)
    await app.ingestor.ingest(mail(when=clock.now()))
    assert app.local is not None
    await app.digests.catch_up()
    assert app.local.digests == []  # never posted before: nothing counts as missed
    clock.set(ams(2026, 1, 6, 9, 0, 0))
    assert await app.digests.send_due("daily") is True
    assert await app.digests.send_due("daily") is False  # the same run, already posted
    channel, view = app.local.digests[0]
    assert channel == "digests" and view.opened == 1 and not view.late
    await app.stop()

    clock.set(ams(2026, 1, 8, 10, 0))  # down on Wednesday and Thursday 09:00
    second = Threadline(settings, clock=clock)
    await second.start()
    await settle(second)
    assert second.local is not None and len(second.local.digests) == 1
    missed = second.local.digests[0][1]
    assert (
        missed.late
        and missed.period_start == ams(2026, 1, 6, 9, 0)
        and missed.period_end == ams(2026, 1, 8, 9, 0)
    )
    assert "(late: not posted at its time)" in render_digest(missed, ZoneInfo(missed.timezone))
    await second.stop()

    third = Threadline(settings, clock=clock)
    await third.start()
    await settle(third)
    assert third.local is not None and third.local.digests == []
    await third.stop()


async def test_digest_send_now_and_cli(tmp_path: Path, clock: ManualClock) -> None:
    from bot.digest import DigestError

    app = await started_app(sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings(), clock)
    view = await app.digests.send_now("daily")
    assert app.local is not None and app.local.digests[0][1] == view
    try:
        await app.digests.send_now("weekly")
    except DigestError as exc:
        assert "no digest 'weekly'" in str(exc)
    else:
        raise AssertionError("unknown digest accepted")
    await app.stop()


async def test_a_claim_left_by_a_dead_instance_is_taken_over(sla_app: Threadline, clock: ManualClock) -> None:
    start, end = ams(2026, 1, 5, 9, 0), ams(2026, 1, 6, 9, 0)
    async with sla_app.store.transaction() as uow:
        assert await uow.schedule.claim_digest_run(
            "daily", start, end, clock.now(), late=False, stale=CLAIM_STALE
        )
    async with sla_app.store.transaction() as uow:  # still being posted by someone: hands off
        assert (
            await uow.schedule.claim_digest_run(
                "daily", start, end, clock.now(), late=False, stale=CLAIM_STALE
            )
            is None
        )
    clock.advance(CLAIM_STALE + timedelta(seconds=1))
    async with sla_app.store.transaction() as uow:
        run_id = await uow.schedule.claim_digest_run(
            "daily", start, end, clock.now(), late=True, stale=CLAIM_STALE
        )
        assert run_id is not None
        await uow.schedule.finish_digest_run(run_id, clock.now())
    clock.advance(timedelta(hours=1))
    async with sla_app.store.transaction() as uow:  # sent: never again
        assert (
            await uow.schedule.claim_digest_run(
                "daily", start, end, clock.now(), late=True, stale=CLAIM_STALE
            )
            is None
        )


async def _posted_once_on_monday(app: Threadline, clock: ManualClock) -> None:
    clock.set(ams(2026, 1, 5, 9, 0))
    assert await app.digests.send_due("daily") is True
    assert app.local is not None and len(app.local.digests) == 1


async def test_a_run_claimed_by_an_instance_that_died_is_posted_within_a_minute(
    sla_app: Threadline, clock: ManualClock
) -> None:
    await _posted_once_on_monday(sla_app, clock)
    clock.set(ams(2026, 1, 6, 9, 0))  # Tuesday's run: another instance claims it, then dies posting it
    start, end = ams(2026, 1, 5, 9, 0), ams(2026, 1, 6, 9, 0)
    async with sla_app.store.transaction() as uow:
        assert await uow.schedule.claim_digest_run(
            "daily", start, end, clock.now(), late=False, stale=CLAIM_STALE
        )
    assert await sla_app.digests.send_due("daily") is False  # claimed: this instance's cron job hands off
    clock.advance(timedelta(seconds=35))
    assert await sla_app.digests.post_missed() == 0  # the claim may still be in flight
    clock.advance(timedelta(seconds=15))  # 50 s after the claim
    assert await sla_app.digests.post_missed() == 1
    clock.advance(timedelta(minutes=5))
    assert await sla_app.digests.post_missed() == 0
    assert sla_app.local is not None and len(sla_app.local.digests) == 2
    view = sla_app.local.digests[1][1]
    assert view.late and (view.period_start, view.period_end) == (start, end)


async def test_a_run_skipped_while_the_database_was_down_is_posted_late_when_it_is_back(
    sla_app: Threadline, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _posted_once_on_monday(sla_app, clock)
    clock.set(ams(2026, 1, 6, 9, 0))
    working = sla_app.store.transaction

    def unreachable() -> object:
        raise ConnectionRefusedError("database unreachable")

    monkeypatch.setattr(sla_app.store, "transaction", unreachable)
    with pytest.raises(ConnectionRefusedError):
        await sla_app.digests.send_due("daily")  # the cron moment, during the outage
    with pytest.raises(ConnectionRefusedError):
        await sla_app.digests.post_missed()
    monkeypatch.setattr(sla_app.store, "transaction", working)
    clock.advance(timedelta(seconds=40))  # the database is back
    assert await sla_app.digests.post_missed() == 1
    assert await sla_app.digests.post_missed() == 0
    assert sla_app.local is not None and len(sla_app.local.digests) == 2
    view = sla_app.local.digests[1][1]
    assert view.late and view.period_end == ams(2026, 1, 6, 9, 0)


async def test_the_scheduler_checks_for_missed_digest_runs(sla_app: Threadline) -> None:
    scheduler = build_scheduler(sla_app.waker.wake_due, sla=sla_app.sla, digests=sla_app.digests)
    job = scheduler.get_job("digest-missed")
    assert job is not None and job.func == sla_app.digests.post_missed


async def test_digest_lists_urgent_ones_first(sla_app: Threadline, clock: ManualClock) -> None:
    await known_day(sla_app, clock)
    local = sla_app.local
    assert local is not None
    assert (await local.type_line("#5 !priority urgent", "alice")).ok
    clock.set(ams(2026, 1, 6, 9, 0))
    view = await sla_app.digests.build("daily")
    assert [e.number for e in view.oldest][:2] == [5, 2]  # #5 is newer than #2 but urgent


async def test_weekly_digest_carries_a_chart(tmp_path: Path, clock: ManualClock) -> None:
    settings = sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings()
    daily = settings.digests["daily"]
    weekly = daily.model_copy(update={"cron": "0 9 * * mon", "chart": True})
    app = await started_app(
        settings.model_copy(update={"digests": {"daily": daily, "weekly": weekly}}), clock
    )
    try:
        await known_day(app, clock)
        clock.set(ams(2026, 1, 12, 9, 0))
        view = await app.digests.send_now("weekly")
        assert view.chart_png is not None and view.chart_png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(view.chart_png) > 5_000  # bars, axes and labels were drawn
        assert (await app.digests.build("daily")).chart_png is None  # only where asked for
    finally:
        await app.stop()
