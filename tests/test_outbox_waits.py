"""No silent waits, and send records: a rate-limited reply shows ONE "queued" notice after
``[outbox] queued_notice_seconds`` and ONE "sent" notice when it goes through (also across a
restart); a part recorded as sent is never sent again; a wamid another message has is explained."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.ports import SentParts, TransientDeliveryError
from bot.views import OutboundView
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import make_settings
from threadline.app import Threadline


class LimitedSender:
    """An email sender answering "slow down" ``limits`` times, then sending (recording each part)."""

    channel = "email"

    def __init__(self, limits: int, external: str = "<sent@example.com>") -> None:
        self.limits = limits
        self.external = external
        self.sent: list[str] = []

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept: the test reads what was sent from memory."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Refuse with a rate limit while ``limits`` last; then send part 0 unless it is recorded."""
        if self.limits > 0:
            self.limits -= 1
            raise TransientDeliveryError("421 4.7.0 too many messages, slow down", retry_after=30)
        assert parts is not None
        if (already := parts.sent(0)) is not None:
            return already
        self.sent.append(message.text)
        await parts.record(0, self.external)
        return self.external


async def _app(
    tmp_path: Path, clock: ManualClock, sender: LimitedSender, queued_after: float | None = None
) -> Threadline:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out")
    if queued_after is not None:  # [outbox] queued_notice_seconds
        outbox = settings.outbox.model_copy(update={"queued_notice_seconds": queued_after})
        settings = settings.model_copy(update={"outbox": outbox})
    app = await started_app(settings, clock)
    app.channels["email"] = sender
    return app


async def _reply(app: Threadline, clock: ManualClock, text: str) -> int:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    number = result.conversation_number or 0
    assert (await app.local.type_line(f"#{number} !reply {text}", "alice")).ok
    return number


def _notices(app: Threadline, number: int) -> list[str]:
    assert app.local is not None
    thread = app.local.thread(number)
    assert thread is not None
    return thread.texts("notice")


async def test_a_rate_limited_reply_shows_one_queued_notice_then_one_sent(
    tmp_path: Path, clock: ManualClock
) -> None:
    sender = LimitedSender(limits=8)  # 8 x 30 s = 4 minutes of "slow down"
    app = await _app(tmp_path, clock, sender)
    number = await _reply(app, clock, "Your refund is on its way")
    for _ in range(12):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=31))
    await app.dispatcher.drain()
    notices = _notices(app, number)
    queued = [n for n in notices if n.startswith("queued:")]
    assert queued == ["queued: Email (SMTP) is rate-limiting, retrying"]
    sent = [n for n in notices if n.startswith("sent:")]
    assert sent == ["sent: the reply went through after 8 rate-limit answers from Email (SMTP)"]
    assert sender.sent == ["Your refund is on its way"]  # sent once, not given up (waits are no attempts)
    async with app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        (reply,) = await uow.messages.messages_of(conversation.id, ["outbound"])
    assert reply.delivery_status == "sent"
    await app.stop()


async def test_a_short_wait_stays_quiet_and_the_threshold_is_configurable(
    tmp_path: Path, clock: ManualClock
) -> None:
    sender = LimitedSender(limits=2)
    app = await _app(tmp_path, clock, sender)
    number = await _reply(app, clock, "Short wait")
    for _ in range(4):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=31))
    assert not [n for n in _notices(app, number) if n.startswith(("queued:", "sent:"))]
    await app.stop()

    eager = LimitedSender(limits=2)
    app = await _app(tmp_path / "b", clock, eager, queued_after=30)
    number = await _reply(app, clock, "Configured wait")
    for _ in range(4):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=31))
    assert [n for n in _notices(app, number) if n.startswith("queued:")] == [
        "queued: Email (SMTP) is rate-limiting, retrying"
    ]
    await app.stop()


async def test_the_queued_notice_is_not_repeated_after_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    sender = LimitedSender(limits=10)
    app = await _app(tmp_path, clock, sender)
    await _reply(app, clock, "Across a restart")
    for _ in range(6):  # 3 minutes: the queued notice is written
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=31))
    await app.stop()
    app = await _app(tmp_path, clock, sender)  # a new process on the same database
    for _ in range(8):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=31))
    await app.dispatcher.drain()
    with sqlite3.connect(tmp_path / "t.db") as db:  # every notice written, over both runs
        notices = [
            json.loads(p)["text"] for (p,) in db.execute("SELECT payload FROM outbox WHERE kind = 'notice'")
        ]
    assert [n for n in notices if n.startswith("queued:")] == [
        "queued: Email (SMTP) is rate-limiting, retrying"
    ]
    assert len([n for n in notices if n.startswith("sent:")]) == 1
    assert sender.sent == ["Across a restart"]
    await app.stop()


async def test_a_part_recorded_as_sent_is_not_sent_again(tmp_path: Path, clock: ManualClock) -> None:
    sender = LimitedSender(limits=0)
    app = await _app(tmp_path, clock, sender)
    number = await _reply(app, clock, "Once only")
    async with app.store.transaction() as uow:  # a previous run sent it and died before marking it done
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        (reply,) = await uow.messages.messages_of(conversation.id, ["outbound"])
        await uow.sends.record_part(reply.id, 0, "<earlier@example.com>", clock.now())
    await app.dispatcher.drain()
    assert sender.sent == []
    async with app.store.transaction() as uow:
        (reply,) = await uow.messages.messages_of(conversation.id, ["outbound"])
    assert (reply.delivery_status, reply.external_id) == ("sent", "<earlier@example.com>")
    await app.stop()


async def test_an_external_id_another_message_has_is_explained_not_resent(
    tmp_path: Path, clock: ManualClock
) -> None:
    sender = LimitedSender(limits=0, external="<taken@example.org>")
    app = await _app(tmp_path, clock, sender)
    assert app.local is not None
    await app.ingestor.ingest(email_in(when=clock.now(), external_id="<taken@example.org>"))
    number = await _reply(app, clock, "Colliding id")
    for _ in range(3):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=200))
    assert sender.sent == ["Colliding id"]  # once: not re-sent at every retry
    assert any("an earlier message already has" in n for n in _notices(app, number))
    await app.stop()
