"""Deliveries that heal (core), on SQLite and PostgreSQL: a surface refusing until it is fixed parks the
conversation and tells the team once; once the scope works again (probe or next success) the thread
shows the card and every message, in order, once; a deleted card comes back with its history."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.refusing import RefusingSurface
from testkit.settings import make_settings
from threadline.app import Threadline


async def _app(db_url: str, tmp_path: Path, clock: ManualClock) -> tuple[Threadline, RefusingSurface]:
    from storage.migrate import upgrade

    await upgrade(db_url)
    app = await started_app(make_settings(db_url, tmp_path / "out"), clock)
    surface = RefusingSurface()
    surface.commands = app.commands  # built before the app it types into
    app.surfaces["local"] = surface
    return app, surface


async def _emails(app: Threadline, clock: ManualClock, texts: list[str]) -> int:
    numbers = set()
    for text in texts:
        mail = email_in(text=text, thread_refs=("<root-of-the-thread@example.org>",), when=clock.now())
        result = await app.ingestor.ingest(mail)
        numbers.add(result.conversation_number)
    assert len(numbers) == 1  # one conversation (same sender, same subject)
    return int(numbers.pop() or 0)


@pytest.mark.parametrize("refusal", ["channel", "surface"])
async def test_refused_then_fixed_by_probe_shows_everything_once(
    db_url: str, tmp_path: Path, clock: ManualClock, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, surface = await _app(db_url, tmp_path, clock)
    await app.ingestor.ingest(
        email_in(text="root", external_id="<root-of-the-thread@example.org>", when=clock.now())
    )
    try:
        surface.refusing = refusal
        with caplog.at_level(logging.ERROR, logger="bot.outbox.repair"):
            number = await _emails(app, clock, ["first", "second"])
            await app.dispatcher.drain()
        assert surface.thread(number) is None
        told = [r for r in caplog.records if "surface refuses" in r.getMessage()]
        assert len(told) == 1  # once per broken scope, with the fix
        assert "invite" in told[0].getMessage() or "token" in told[0].getMessage()
        calls = surface.platform_calls
        await _emails(app, clock, ["fourth"])
        await app.dispatcher.drain()
        assert surface.platform_calls == calls  # parked: the platform is not called again
        report = app.repairs.report()
        assert any(
            state.startswith("broken:")
            for state in [*report["surfaces"].values(), *report["channels"].values()]
        )

        await app.repairs.probe_all()  # still refused: nothing moves
        await app.dispatcher.drain()
        assert surface.thread(number) is None

        surface.refusing = None  # invited / the right token
        await app.repairs.probe_all()
        await app.dispatcher.drain()
        thread = surface.thread(number)
        assert thread is not None
        assert thread.texts("inbound") == ["root", "first", "second", "fourth"]
        await app.dispatcher.drain()
        assert surface.thread(number).texts("inbound") == ["root", "first", "second", "fourth"]  # type: ignore[union-attr]
        report = app.repairs.report()
        assert "ok" in [*report["surfaces"].values(), *report["channels"].values()]
        assert not any(
            v.startswith("broken") for v in [*report["surfaces"].values(), *report["channels"].values()]
        )
    finally:
        await app.stop()


async def test_next_success_heals_the_channel(db_url: str, tmp_path: Path, clock: ManualClock) -> None:
    app, surface = await _app(db_url, tmp_path, clock)
    await app.ingestor.ingest(
        email_in(text="root", external_id="<root-of-the-thread@example.org>", when=clock.now())
    )
    try:
        surface.refusing = "channel"
        first = await _emails(app, clock, ["waiting one", "waiting two"])
        await app.dispatcher.drain()
        surface.refusing = None
        other = (
            await app.ingestor.ingest(email_in("zoe@example.com", "Other", "new customer", when=clock.now()))
        ).conversation_number
        await app.dispatcher.drain()  # the new conversation's card goes through: the channel works
        await app.dispatcher.drain()
        assert surface.thread(other or 0) is not None
        assert surface.thread(first).texts("inbound") == ["root", "waiting one", "waiting two"]  # type: ignore[union-attr]
    finally:
        await app.stop()


async def test_deleted_card_comes_back_with_its_history(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    app, surface = await _app(db_url, tmp_path, clock)
    await app.ingestor.ingest(
        email_in(text="root", external_id="<root-of-the-thread@example.org>", when=clock.now())
    )
    try:
        number = await _emails(app, clock, ["one", "two"])
        await app.dispatcher.drain()
        old = surface.thread(number)
        assert old is not None and old.texts("inbound") == ["root", "one", "two"]
        surface.threads.clear()  # someone deleted the card (message_not_found / ThreadGone)
        await _emails(app, clock, ["three"])
        await app.dispatcher.drain()
        thread = surface.thread(number)
        assert thread is not None
        assert thread.texts("inbound") == ["root", "one", "two", "three"]
    finally:
        await app.stop()


async def test_resync_on_demand(db_url: str, tmp_path: Path, clock: ManualClock) -> None:
    app, surface = await _app(db_url, tmp_path, clock)
    await app.ingestor.ingest(
        email_in(text="root", external_id="<root-of-the-thread@example.org>", when=clock.now())
    )
    try:
        number = await _emails(app, clock, ["a", "b"])
        await app.dispatcher.drain()
        surface.threads.clear()
        assert await app.repairs.resync([number]) == [number]
        await app.dispatcher.drain()
        assert surface.thread(number).texts("inbound") == ["root", "a", "b"]  # type: ignore[union-attr]
    finally:
        await app.stop()
