"""Collision detection: a second reply within the window must be confirmed; assignment collisions too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.automation import automation_settings, sent_mail
from testkit.inbound import email_in
from threadline.app import Threadline


async def test_second_reply_within_the_window_needs_confirmation(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    n = result.conversation_number
    assert (await local.type_line(f"#{n} !reply We are on it.", "alice")).ok
    await app.dispatcher.drain()
    clock.advance(timedelta(seconds=50))
    second = await local.type_line(f"#{n} !reply Looking into it now!", "bob")
    assert not second.ok and second.needs_confirmation
    assert "Alice Martin replied to the customer of" in second.text and "just now" in second.text
    assert "already sent" in second.text and "We are on it." in second.text
    assert "reply --confirm Looking into it now!" in second.text
    assert (await local.type_line(f"#{n} !reply again from Alice", "alice")).ok  # own replies never collide
    confirmed = await local.type_line(f"#{n} !reply --confirm Looking into it now!", "bob")
    assert confirmed.ok
    await app.dispatcher.drain()
    assert len(sent_mail(tmp_path / "out")) == 3
    clock.advance(timedelta(minutes=3))
    assert (await local.type_line(f"#{n} !reply A later, separate update.", "alice")).ok  # window passed


async def test_window_is_configurable_and_can_be_off(tmp_path: Path, clock: ManualClock) -> None:
    extra = "\n[inboxes.support.csat]\nenabled = false\n"
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", extra)
    inboxes = dict(settings.inboxes)
    inboxes["support"] = inboxes["support"].model_copy(update={"collision_window": "0m"})
    app = await started_app(settings.model_copy(update={"inboxes": inboxes}), clock)
    try:
        assert app.local is not None
        result = await app.ingestor.ingest(email_in(when=clock.now()))
        assert (await app.local.type_line(f"#{result.conversation_number} !reply one", "alice")).ok
        assert (await app.local.type_line(f"#{result.conversation_number} !reply two", "bob")).ok
    finally:
        await app.stop()


async def test_reply_to_someone_elses_conversation_still_asks(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    n = result.conversation_number
    assert (await local.type_line(f"#{n} !claim", "alice")).ok
    refused = await local.type_line(f"#{n} !reply hi", "bob")
    assert not refused.ok and refused.needs_confirmation and "assigned to Alice Martin" in refused.text
    assert (await local.type_line(f"#{n} !reply --confirm hi", "bob")).ok
