"""The undo window: a reply waits in the outbox, can be taken back or edited, and survives a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.commands import Actor, Location
from storage.migrate import upgrade
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import base_settings
from threadline.app import Threadline
from threadline.config import AppSettings

ALICE = Actor("local", "alice", "Alice Martin")


def undo_settings(db_url: str, outdir: Path, seconds: int = 10) -> AppSettings:
    """The shared test settings with a real undo window."""
    return base_settings(db_url, outdir).set("outbox", undo_seconds=seconds).settings()


def mails(outdir: Path) -> list[str]:
    """What customers received (the email channel writes each reply as a file)."""
    return [p.read_text() for p in sorted(outdir.glob("*.eml"))]


async def conversation(app: Threadline, clock: ManualClock) -> int:
    """A customer email; returns its conversation number."""
    result = await app.ingestor.ingest(email_in(text="Where is my desk?", when=clock.now()))
    await app.dispatcher.drain()
    assert result.conversation_number is not None
    return result.conversation_number


async def say(app: Threadline, number: int, line: str, ref: str | None = None):
    """Alice types ``line`` in the thread of #number (as chat message ``ref``)."""
    where = Location("local", number=number, typed_in_thread=True, message_ref=ref)
    return await app.commands.handle(ALICE, line, where)


async def stored_outbound(app: Threadline, number: int) -> list[tuple[str, str | None]]:
    """(text, delivery status) of the conversation's replies."""
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(number)
        assert conv is not None
        return [(m.text, m.delivery_status) for m in await uow.messages.messages_of(conv.id, ["outbound"])]


async def test_reply_waits_out_the_window_then_is_sent_once(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    out = tmp_path / "out"
    app = await started_app(undo_settings(sqlite_url, out), clock)
    try:
        number = await conversation(app, clock)
        assert (await say(app, number, "!reply A new desk ships today.")).ok
        await app.dispatcher.drain()
        thread = app.local.thread(number) if app.local else None
        assert thread is not None
        assert mails(out) == []
        assert any("sending in 10 s" in t and "!undo" in t for t in thread.texts("notice"))
        clock.advance(timedelta(seconds=9))
        await app.dispatcher.drain()
        assert mails(out) == []
        clock.advance(timedelta(seconds=2))
        await app.dispatcher.drain()
        await app.dispatcher.drain()
        assert len(mails(out)) == 1 and "A new desk ships today." in mails(out)[0]
        assert thread.texts("outbound") == ["A new desk ships today."]  # the thread shows it sent
        assert await stored_outbound(app, number) == [("A new desk ships today.", "sent")]
        answer = await say(app, number, "!undo")
        assert not answer.ok and "no reply waiting" in answer.text
    finally:
        await app.stop()


async def test_undo_within_the_window_keeps_the_reply_from_the_customer(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(db_url)
    out = tmp_path / "out"
    app = await started_app(undo_settings(db_url, out), clock)
    try:
        number = await conversation(app, clock)
        await say(app, number, "!reply Refund is on its way")
        clock.advance(timedelta(seconds=5))
        answer = await say(app, number, "!undo")
        assert answer.ok and "did not get it" in answer.text
        clock.advance(timedelta(seconds=60))
        await app.dispatcher.drain()
        assert mails(out) == []
        thread = app.local.thread(number) if app.local else None
        assert thread is not None
        assert "Reply undone by Alice Martin; the customer did not get it." in thread.texts("notice")
        assert thread.texts("outbound") == []
        assert await stored_outbound(app, number) == [("Refund is on its way", "undone")]
    finally:
        await app.stop()


async def test_an_edit_within_the_window_sends_the_edited_text(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(db_url)
    out = tmp_path / "out"
    app = await started_app(undo_settings(db_url, out), clock)
    try:
        number = await conversation(app, clock)
        await say(app, number, "!reply Your refund of €50 is done", ref="m1")
        outcome = await app.commands.edits.edited(ALICE, "m1", "!reply Your refund of €55 is done")
        assert outcome == "reply edited"
        clock.advance(timedelta(seconds=11))
        await app.dispatcher.drain()
        await app.dispatcher.drain()
        assert len(mails(out)) == 1 and "€55" in mails(out)[0] and "€50" not in mails(out)[0]
        late = await app.commands.edits.edited(ALICE, "m1", "!reply Your refund of €60 is done")
        assert late == "too late"
        await app.dispatcher.drain()
        thread = app.local.thread(number) if app.local else None
        assert thread is not None
        assert any("already left" in t for t in thread.texts("notice"))
        assert len(mails(out)) == 1
    finally:
        await app.stop()


async def test_deleting_a_held_reply_undoes_it_and_only_the_author_edits(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    out = tmp_path / "out"
    app = await started_app(undo_settings(sqlite_url, out), clock)
    try:
        number = await conversation(app, clock)
        await say(app, number, "!reply Oops, wrong customer", ref="m2")
        bob = Actor("local", "bob", "Bob Stone")
        assert await app.commands.edits.edited(bob, "m2", "!reply hijacked") == "ignored"
        assert await app.commands.edits.deleted("local", "m2") == "reply undone"
        clock.advance(timedelta(seconds=30))
        await app.dispatcher.drain()
        assert mails(out) == []
        assert await stored_outbound(app, number) == [("Oops, wrong customer", "undone")]
    finally:
        await app.stop()


async def test_edited_and_deleted_notes_change_in_storage(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    app = await started_app(undo_settings(sqlite_url, tmp_path / "out"), clock)
    try:
        number = await conversation(app, clock)
        await say(app, number, "customer is on the old plan", ref="n1")
        await say(app, number, "call them tomorrow", ref="n2")
        assert await app.commands.edits.edited(ALICE, "n1", "customer is on the new plan") == "note edited"
        assert await app.commands.edits.deleted("local", "n2") == "note deleted"
        async with app.store.transaction() as uow:
            conv = await uow.conversations.conversation_by_number(number)
            assert conv is not None
            notes = await uow.messages.messages_of(conv.id, ["note"])
            actions = [e.action for e in await uow.audit.trail(conv.id)]
        assert [n.text for n in notes] == ["customer is on the new plan"]
        assert (notes[0].meta or {})["edits"][0]["text"] == "customer is on the old plan"
        assert "note edited" in actions and "note deleted" in actions
    finally:
        await app.stop()


async def test_a_window_that_passed_while_down_is_sent_once_on_restart(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(db_url)
    out = tmp_path / "out"
    first = await started_app(undo_settings(db_url, out), clock)
    number = await conversation(first, clock)
    await say(first, number, "!reply Sent after the restart")
    await first.dispatcher.drain()
    await first.stop()  # down before the window passed
    assert mails(out) == []
    clock.advance(timedelta(minutes=5))
    second = await started_app(undo_settings(db_url, out), clock)
    try:
        for _ in range(3):
            await second.dispatcher.drain()
        assert len(mails(out)) == 1 and "Sent after the restart" in mails(out)[0]
        assert await stored_outbound(second, number) == [("Sent after the restart", "sent")]
    finally:
        await second.stop()
