"""Operations in one process: card edits that change nothing, pacing only posts, outage notices once,
``/healthz`` ``/readyz`` ``/metrics`` over real HTTP, fault points."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from adapters.local import LocalSurface
from bot.clock import ManualClock
from bot.effects import CARD, surface_destination
from bot.outbox.pacing import SurfacePace
from bot.ports import SentParts, ThreadRef, TransientDeliveryError
from bot.runtime.health import ComponentState
from bot.views import CardView, OutboundView
from storage.db import DatabaseUnavailable
from storage.models import ChannelCursorRow
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import make_settings
from testkit.waiting import until
from threadline.app import Threadline

OPS = """
[web]
port = 0

[ops]
serve = true
"""


class CountingSurface(LocalSurface):
    """A local surface that counts every edit request it receives (changed or not)."""

    def __init__(self) -> None:
        super().__init__()
        self.edit_requests = 0

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        self.edit_requests += 1
        await super().update_card(ref, card)


class DownThenUpSender:
    """An email sender that answers like a server that is down for ``failures`` attempts."""

    channel = "email"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutboundView] = []

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept: the test reads what was sent from memory."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise TransientDeliveryError("connection refused by smtp.example.com:587")
        self.sent.append(message)
        return f"<sent-{len(self.sent)}@example.com>"


async def _app(tmp_path: Path, clock: ManualClock, surface: LocalSurface, extra: str = "") -> Threadline:
    app = await started_app(make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", extra), clock)
    surface.commands = app.commands  # built before the app it types into
    app.surfaces["local"] = surface
    app.local = surface
    return app


async def _enqueue_card(app: Threadline, number: int, **changes: str) -> None:
    async with app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        for key, value in changes.items():
            setattr(conversation, key, value)
        await uow.outbox.enqueue(conversation, surface_destination("local"), CARD, app.clock.now())


async def test_a_card_edit_that_changes_nothing_is_not_sent(tmp_path: Path, clock: ManualClock) -> None:
    surface = CountingSurface()
    app = await _app(tmp_path, clock, surface)
    number = (await app.ingestor.ingest(email_in(when=clock.now()))).conversation_number or 0
    await app.dispatcher.drain()
    await _enqueue_card(app, number)
    await _enqueue_card(app, number)
    await app.dispatcher.drain()
    assert surface.edit_requests == 0
    assert app.dispatcher.skipped_card_edits == 2
    await _enqueue_card(app, number, subject="Refund, second try")
    await app.dispatcher.drain()
    thread = surface.thread(number)
    assert thread is not None and thread.card.subject == "Refund, second try"
    assert surface.edit_requests == 1
    await app.stop()


async def test_the_card_sent_is_remembered_in_its_own_table(tmp_path: Path, clock: ManualClock) -> None:
    surface = CountingSurface()
    app = await _app(tmp_path, clock, surface)
    number = (await app.ingestor.ingest(email_in(when=clock.now()))).conversation_number or 0
    await app.dispatcher.drain()
    async with app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        first = await uow.cards.fingerprint("local", conversation.id)
        cursors = (await uow.session.execute(select(ChannelCursorRow.key))).scalars().all()
    assert first is not None and len(first) == 32
    assert not [key for key in cursors if key.startswith("card:")]  # no longer kept among channel cursors
    await _enqueue_card(app, number, subject="Refund, second try")
    await app.dispatcher.drain()
    async with app.store.transaction() as uow:
        assert await uow.cards.fingerprint("local", conversation.id) not in (None, first)
    await app.stop()


async def test_card_edits_do_not_spend_the_post_budget(tmp_path: Path, clock: ManualClock) -> None:
    surface = CountingSurface()
    app = await _app(tmp_path, clock, surface)
    app.dispatcher.paces = {"local": SurfacePace(rate=0.0001, burst=2)}  # two posts, then ~3 hours' wait
    number = (await app.ingestor.ingest(email_in(when=clock.now()))).conversation_number or 0
    await asyncio.wait_for(app.dispatcher.drain(), 10)  # card + first message: the whole budget
    for n in range(3):
        await _enqueue_card(app, number, subject=f"Changed {n}")
        await asyncio.wait_for(app.dispatcher.drain(), 10)  # an edit that waited for a token would time out
    thread = surface.thread(number)
    assert thread is not None and thread.card.subject == "Changed 2" and surface.edit_requests == 3
    await app.stop()


async def test_an_outage_is_announced_once_and_its_end_once(tmp_path: Path, clock: ManualClock) -> None:
    surface = LocalSurface()
    app = await _app(tmp_path, clock, surface)
    sender = DownThenUpSender(failures=5)
    app.channels["email"] = sender
    numbers = []
    for n in range(3):
        result = await app.ingestor.ingest(email_in(f"c{n}@example.org", when=clock.now()))
        numbers.append(result.conversation_number or 0)
    await app.dispatcher.drain()
    for number in numbers:
        reply = await surface.type_line(f"#{number} !reply Thanks, on it.", "alice")
        assert reply.ok, reply.text
    for _ in range(12):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=70))
    await app.dispatcher.drain()
    notices = [(t.number, text) for t in surface.threads.values() for text in t.texts("notice")]
    down = [n for n, text in notices if "is failing" in text]
    back = [n for n, text in notices if "works again" in text]
    assert down == [numbers[0]] and back == [numbers[0]], notices
    assert sorted(m.conversation_number for m in sender.sent) == numbers  # each reply went out once
    assert not app.dispatcher.outages or not app.dispatcher.outages.is_down("channel:email")
    await app.stop()


class BlipSurface(LocalSurface):
    """A local surface during whose first post the database connection drops for a few statements."""

    def __init__(self, failing: list[int]) -> None:
        super().__init__()
        self.failing = failing

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        if not self.threads:
            self.failing.append(4)  # the next four transactions fail, then the database answers again
        return await super().create_thread(chat_channel, card)


async def test_a_database_blip_is_no_surface_outage(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failing: list[int] = []
    surface = BlipSurface(failing)
    app = await _app(tmp_path, clock, surface)
    real = app.store.transaction

    def flaky() -> object:
        if failing and failing[0] > 0:
            failing[0] -= 1
            raise DatabaseUnavailable("cannot reach the database in threadline.database_url (test)")
        return real()

    monkeypatch.setattr(app.store, "transaction", flaky)
    for n in range(4):
        await app.ingestor.ingest(email_in(f"c{n}@example.org", when=clock.now()))
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(app.dispatcher.run())
        await until("the blip to pass", lambda: bool(failing) and failing[0] == 0)
        clock.advance(timedelta(seconds=app.settings.ops.claim_seconds + 1))  # claimed rows come back
        pending = [-1]

        async def count_pending() -> None:
            async with real() as uow:
                pending[0] = (await uow.outbox.outbox_stats(clock.now()))[0]

        def drained() -> bool:  # every card shown, and recorded (a card shown may wait for its commit)
            return len({t.number for t in surface.threads.values()}) == 4 and pending[0] == 0

        await until("every card shown and recorded", drained, between=count_pending)
        app.dispatcher.stop()
        await task
    notices = [text for t in surface.threads.values() for text in t.texts("notice")]
    assert not any("works again" in text or "is failing" in text for text in notices), notices
    assert app.dispatcher.outages is not None and not app.dispatcher.outages.is_down("surface:local")
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count("database unreachable; retrying with backoff") == 1, lines
    assert lines.count("database reachable again") == 1, lines
    assert not any(r.exc_info for r in caplog.records), lines  # no tracebacks
    await app.stop()


async def test_health_ready_and_metrics_over_http(tmp_path: Path, clock: ManualClock) -> None:
    surface = LocalSurface()
    app = await _app(tmp_path, clock, surface, OPS)
    app.ops.install_metrics()
    await app.web.start()
    await app.ingestor.ingest(email_in(when=clock.now()))
    await app.dispatcher.drain()
    await surface.type_line("#1 !claim", "alice")
    base = app.web.url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200 and await response.text() == "ok"
        async with http.get(f"{base}/readyz") as response:
            body = await response.json()
            assert response.status == 200, body
            assert body["ready"] is True and body["components"]["database"]["ok"] is True
        async with http.get(f"{base}/metrics") as response:
            text = await response.text()
            assert response.status == 200
        assert 'threadline_messages_in_total{channel="email"} 1.0' in text
        assert 'threadline_deliveries_total{destination="surface:local",kind="post"}' in text
        assert 'threadline_command_seconds_count{ok="true"} 1.0' in text
        assert "threadline_outbox_depth" in text
        app.ops.health.register("mailbox:support", lambda: ComponentState(False, "not connected"))
        async with http.get(f"{base}/readyz") as response:
            body = await response.json()
            assert response.status == 503
            assert body["components"]["mailbox:support"] == {"ok": False, "detail": "not connected"}
    await app.stop()


async def test_readiness_says_when_the_database_is_gone(tmp_path: Path, clock: ManualClock) -> None:
    app = await _app(tmp_path, clock, LocalSurface())
    assert (await app.ops.health.readiness()).ready
    os.chmod(tmp_path, 0o700)
    (tmp_path / "t.db").rename(tmp_path / "moved.db")
    (tmp_path / "t.db").mkdir()  # the path is now a directory: SQLite cannot open it
    await app.store.close()
    state = await app.ops.health.readiness()
    assert not state.ready and not state.components["database"].ok
    await app.stop()


def test_a_fault_point_kills_the_process_at_its_nth_hit() -> None:
    code = (
        "from bot.runtime import faults\nfor _ in range(5):\n"
        "    faults.hit('after_commit')\n    print('passed', flush=True)"
    )
    env = {**os.environ, "THREADLINE_FAULT": "after_commit:3"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 137
    assert done.stdout.count("passed") == 2
    assert "killed at after_commit#3" in done.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "THREADLINE_FAULT"},
    )
    assert quiet.returncode == 0 and quiet.stdout.count("passed") == 5


class GatedSurface(LocalSurface):
    """Posts wait at a gate, like slow platform calls in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = 0

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        self.entered += 1
        await self.gate.wait()
        return await super().create_thread(chat_channel, card)


async def test_sigterm_finishes_in_flight_deliveries_and_hands_back_the_rest(
    tmp_path: Path, clock: ManualClock
) -> None:
    surface = GatedSurface()
    app = await _app(tmp_path, clock, surface)
    for n in range(20):
        await app.ingestor.ingest(email_in(f"s{n}@example.org", when=clock.now()))
    runner = asyncio.create_task(app.dispatcher.run(), name="outbox")
    deadline = asyncio.get_running_loop().time() + 10
    while surface.entered < 1:  # one chat channel: its cards go one at a time, in arrival order
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    stopping = asyncio.create_task(app.ops.stop_first([runner]))
    await asyncio.sleep(0.05)
    assert not stopping.done() and surface.entered == 1  # waits for the in-flight delivery
    surface.gate.set()
    await asyncio.wait_for(stopping, 10)
    assert runner.done() and len(surface.threads) == 1
    async with app.store.transaction() as uow:
        pending, _ = await uow.outbox.outbox_stats(clock.now())
        assert pending == 19
        due = await uow.outbox.next_outbox_due()
        assert due is not None and due <= clock.now()  # handed back: due at once, for anyone
    await app.stop()
