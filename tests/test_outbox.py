"""The outbox: retries with backoff, idempotency, failures shown in the thread, survival across restarts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

from adapters.local import LocalSurface
from bot.clock import ManualClock
from bot.ports import PermanentDeliveryError, SentParts, ThreadRef, TransientDeliveryError
from bot.views import CardView, OutboundView, PostView
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.settings import make_settings
from threadline.app import Threadline


class FlakySurface(LocalSurface):
    """A local surface whose first ``failures`` posts fail like a platform outage."""

    def __init__(self, failures: int, retry_after: float | None = None) -> None:
        super().__init__()
        self.failures = failures
        self.retry_after = retry_after
        self.calls = 0

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise TransientDeliveryError("503 from the platform", retry_after=self.retry_after)
        return await super().create_thread(chat_channel, card)


class RecordingSender:
    """A channel sender that fails as told, then records what it sends."""

    channel = "email"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[OutboundView] = []

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept: the test reads what was sent from memory."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append(message)
        return f"<sent-{len(self.sent)}@example.com>"


async def _app_with(
    tmp_path: Path,
    clock: ManualClock,
    surface: LocalSurface | None = None,
    sender: RecordingSender | None = None,
) -> Threadline:
    app = await started_app(make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out"), clock)
    if surface is not None:
        surface.commands = app.commands  # built before the app it types into
        app.surfaces["local"] = surface
        app.local = surface
    if sender is not None:
        app.channels["email"] = sender
    return app


async def test_fails_twice_then_succeeds_posts_exactly_once(tmp_path: Path, clock: ManualClock) -> None:
    surface = FlakySurface(failures=2)
    app = await _app_with(tmp_path, clock, surface)
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    for _ in range(3):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=10))  # past the backoff
    await app.dispatcher.drain()
    thread = surface.thread(result.conversation_number or 0)
    assert thread is not None
    assert surface.calls == 3
    assert [p.kind for p in thread.posts] == ["inbound"]
    assert len(surface.threads) == 1
    await app.stop()


async def test_backoff_waits_before_retrying(tmp_path: Path, clock: ManualClock) -> None:
    surface = FlakySurface(failures=1, retry_after=30)
    app = await _app_with(tmp_path, clock, surface)
    await app.ingestor.ingest(email_in(when=clock.now()))
    await app.dispatcher.drain()
    assert surface.calls == 1
    clock.advance(timedelta(seconds=20))
    await app.dispatcher.drain()
    assert surface.calls == 1  # Retry-After 30 s not over yet
    clock.advance(timedelta(seconds=11))
    await app.dispatcher.drain()
    assert surface.calls == 2 and len(surface.threads) == 1
    await app.stop()


async def test_permanent_send_failure_is_shown_and_can_be_retried(tmp_path: Path, clock: ManualClock) -> None:
    sender = RecordingSender(PermanentDeliveryError("550 5.1.1 mailbox unavailable"))
    app = await _app_with(tmp_path, clock, sender=sender)
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    await app.local.type_line(f"#{result.conversation_number} !reply Hello", "alice")
    await app.dispatcher.drain()
    thread = app.local.thread(result.conversation_number or 0)
    assert thread is not None
    notices = thread.texts("notice")
    assert any("550 5.1.1 mailbox unavailable" in n and "!retry" in n for n in notices)
    assert thread.texts("outbound") == []

    sender.error = None
    assert (await app.local.type_line(f"#{result.conversation_number} !retry", "alice")).ok
    await app.dispatcher.drain()
    assert [m.text for m in sender.sent] == ["Hello"]
    assert thread.texts("outbound") == ["Hello"]
    await app.stop()


async def test_transient_send_failures_give_up_after_max_attempts(tmp_path: Path, clock: ManualClock) -> None:
    sender = RecordingSender(TransientDeliveryError("451 try later"))
    app = await _app_with(tmp_path, clock, sender=sender)
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    await app.local.type_line(f"#{result.conversation_number} !reply Hello", "alice")
    for _ in range(app.settings.outbox.max_attempts + 1):
        await app.dispatcher.drain()
        clock.advance(timedelta(seconds=app.settings.outbox.backoff_max_seconds + 1))
    await app.dispatcher.drain()
    thread = app.local.thread(result.conversation_number or 0)
    assert thread is not None
    assert any("451 try later" in n for n in thread.texts("notice"))
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(result.conversation_number or 0)
        assert conv is not None
        (reply,) = await uow.messages.messages_of(conv.id, ["outbound"])
    assert reply.delivery_status == "failed"
    await app.stop()


async def test_undelivered_work_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out")
    first = await started_app(settings, clock)
    result = await first.ingestor.ingest(email_in(when=clock.now()))
    await first.stop()  # nothing was delivered
    second = await started_app(settings, clock)
    await second.dispatcher.drain()
    assert second.local is not None
    thread = second.local.thread(result.conversation_number or 0)
    assert thread is not None and [p.kind for p in thread.posts] == ["inbound"]
    await second.stop()


async def test_claimed_rows_come_back_after_a_crash(tmp_path: Path, clock: ManualClock) -> None:
    app = await _app_with(tmp_path, clock)
    await app.ingestor.ingest(email_in(when=clock.now()))
    async with app.store.transaction() as uow:  # an instance claims the row, then dies
        claimed = await uow.outbox.claim_outbox(clock.now(), clock.now() + timedelta(seconds=120), 10)
    assert claimed
    await app.dispatcher.drain()
    assert app.local is not None and not app.local.threads  # still leased
    clock.advance(timedelta(seconds=121))
    await app.dispatcher.drain()
    assert len(app.local.threads) == 1
    await app.stop()


async def test_a_thread_deleted_on_the_platform_is_recreated(app: Threadline, clock: ManualClock) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    await app.dispatcher.drain()
    app.local.threads.clear()  # a moderator deleted it
    await app.local.type_line(f"#{result.conversation_number} !note still here", "alice")
    await app.dispatcher.drain()
    thread = app.local.thread(result.conversation_number or 0)
    assert thread is not None and thread.texts("note") == ["still here"]


def test_post_view_marks_customer_content() -> None:
    post = PostView(
        kind="inbound", author="x", text="<!channel>", created_at=ManualClock().now(), from_customer=True
    )
    assert post.from_customer
