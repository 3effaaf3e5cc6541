"""The away message: once per conversation per day outside business hours, never to an auto-reply
nor to mail read again in a mailbox resync."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from datetime import timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.ports.inbound import AutoKind
from testkit.app import started_app
from testkit.sla import ams, mail, sla_settings
from threadline.app import Threadline

AMS = ZoneInfo("Europe/Amsterdam")
AWAY = 'away_message = "Thanks for writing! We are closed now and answer from {next_open}."'


@pytest.fixture
async def away_app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    app = await started_app(
        sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", inbox_extra=AWAY).settings(), clock
    )
    yield app
    await app.stop()


def _sent(tmp_path: Path) -> list[email.message.EmailMessage]:
    files = sorted((tmp_path / "out").glob("*.eml")) if (tmp_path / "out").exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


async def test_away_message_once_per_day_and_marked_auto(
    away_app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(ams(2026, 1, 10, 12, 0))  # Saturday noon
    number = (await away_app.ingestor.ingest(mail("Hello?", when=clock.now()))).conversation_number or 0
    clock.advance(timedelta(hours=1))
    await away_app.ingestor.ingest(mail("Anyone?", when=clock.now(), conversation_hint=number))
    await away_app.dispatcher.drain()
    sent = _sent(tmp_path)
    assert len(sent) == 1
    assert sent[0]["Auto-Submitted"] == "auto-replied"
    plain = sent[0].get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "answer from Monday 12 January 09:00 (Europe/Amsterdam)" in body
    assert away_app.local is not None
    thread = away_app.local.thread(number)
    assert thread is not None and len(thread.texts("outbound")) == 1
    async with away_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        assert conversation.first_response_at is None  # an acknowledgement is not a response
        assert conversation.first_response_due == ams(2026, 1, 12, 10, 0)

    clock.set(ams(2026, 1, 11, 10, 0))  # Sunday: a new day, one more acknowledgement
    await away_app.ingestor.ingest(mail("Still there?", when=clock.now(), conversation_hint=number))
    await away_app.dispatcher.drain()
    assert len(_sent(tmp_path)) == 2


async def test_never_to_an_auto_reply_and_not_inside_business_hours(
    away_app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(ams(2026, 1, 10, 12, 0))
    await away_app.ingestor.ingest(
        mail("I am out of office", when=clock.now(), auto_kind=AutoKind.AUTO_REPLY, sender="ooo@example.org")
    )
    await away_app.ingestor.ingest(
        mail("Digest", when=clock.now(), auto_kind=AutoKind.LIST, sender="l@x.org")
    )
    await away_app.ingestor.ingest(  # read again after the mailbox was rebuilt
        mail("Old news", when=clock.now(), resynced=True, sender="old@example.org")
    )
    clock.set(ams(2026, 1, 12, 10, 0))  # Monday 10:00, open
    await away_app.ingestor.ingest(mail("Hi", when=clock.now(), sender="kim@example.org"))
    await away_app.dispatcher.drain()
    assert _sent(tmp_path) == []


async def test_no_away_message_to_a_mail_without_sender_address(
    away_app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(ams(2026, 1, 10, 12, 0))  # Saturday noon: closed
    number = (await away_app.ingestor.ingest(mail("Who?", when=clock.now(), sender=""))).conversation_number
    await away_app.dispatcher.drain()
    assert away_app.local is not None
    thread = away_app.local.thread(number or 0)
    assert thread is not None and thread.texts("outbound") == [] and thread.texts("notice") == []
    assert _sent(tmp_path) == []
