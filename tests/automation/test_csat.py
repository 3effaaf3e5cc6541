"""CSAT end to end: close → one-question mail → the customer's reply "4" → rating in thread and database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.email import parse_email
from bot.automation.csat import parse_rating
from bot.clock import ManualClock
from bot.reports.report import build_report, render
from testkit.app import started_app
from testkit.automation import automation_settings, body_of, sent_mail
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline

CSAT = """
[inboxes.support.csat]
question = "How did we do? Reply with 1 (poor) to 5 (excellent)."
thanks = "Thank you for your rating!"

[inboxes.whatsapp.csat]
question = "How did we do? Reply 1-5."
"""


@pytest.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", CSAT)
    application = await started_app(settings, clock)
    yield application
    await application.stop()


def test_parse_rating() -> None:
    for text, rating in {
        "4": 4,
        " 5 - great!": 5,
        "3/5": 3,
        "1\n\n> How did we do?": 1,
        "5 stars": 5,
    }.items():
        assert parse_rating(text) == rating, text
    for text in ("6", "45", "thanks", "It broke again after 2 days", "0", "", "4" + "x" * 300):
        assert parse_rating(text) is None, text


def _answer(to: EmailMessage, text: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Jane Doe <jane@example.org>"
    mail["To"] = to["From"]
    mail["Subject"] = "Re: " + str(to["Subject"])
    mail["Message-ID"] = "<answer-1@example.org>"
    mail["In-Reply-To"] = to["Message-ID"]
    mail["References"] = to["Message-ID"]
    mail.set_content(f"{text}\n\nOn Monday Support wrote:\n> How did we do?\n")
    return bytes(mail)


async def test_no_survey_to_a_mail_without_sender_address(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(email_in(sender="", text="Broken desk", when=clock.now()))
    await local.type_line(f"#{result.conversation_number} !close", "alice")
    await app.dispatcher.drain()
    thread = local.thread(result.conversation_number or 0)
    assert thread is not None and thread.texts("outbound") == [] and sent_mail(tmp_path / "out") == []
    assert not any("not delivered" in t for t in thread.texts("notice"))


async def test_csat_end_to_end_on_email(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(email_in(text="Broken desk", when=clock.now()))
    n = result.conversation_number or 0
    await local.type_line(f"#{n}", "alice")  # focus the thread
    await local.type_line("!reply A new one ships today.", "alice")
    await local.type_line("!close", "alice")
    await app.dispatcher.drain()
    mails = sent_mail(tmp_path / "out")
    assert len(mails) == 2
    question = mails[1]
    assert body_of(question).startswith("How did we do? Reply with 1 (poor) to 5 (excellent).")
    assert question["Auto-Submitted"] == "auto-replied"
    assert f"[#{n}]" in str(question["Subject"])

    clock.advance(timedelta(hours=2))
    answered = await app.ingestor.ingest(parse_email(_answer(question, "4"), inbox="support"))
    assert answered.conversation_number == n and not answered.reopened
    await app.dispatcher.drain()
    thread = local.thread(n)
    assert thread is not None
    assert thread.card.status == "closed"  # a rating never reopens the conversation
    assert "customer rated this conversation 4/5 ★★★★☆" in thread.texts("event")
    assert thread.texts("inbound")[-1].startswith("4")
    assert body_of(sent_mail(tmp_path / "out")[-1]).startswith("Thank you for your rating!")
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(n)
        assert conv is not None and conv.status == "closed"
        assert await uow.csat.rating_of(conv.id) == 4
        assert await uow.csat.ratings(
            clock.now() - timedelta(days=1), clock.now() + timedelta(seconds=1)
        ) == [("support", 4)]
    profile = await local.type_line("!profile", "alice")
    assert "rated 4/5" in profile.text
    async with app.store.transaction() as uow:
        since, until = clock.now() - timedelta(days=1), clock.now() + timedelta(seconds=1)
        report = await build_report(uow, app.settings, since, until)
    assert report.csat == {"support": {"count": 1, "average": 4.0, "satisfied_percent": 100.0}}
    table = render(report, "table")
    assert "\n  inbox    ratings  average  4 or 5\n  support        1     4.00   100 %" in table


async def test_a_rating_read_again_in_a_mailbox_resync_gets_no_thanks(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    local = app.local
    assert local is not None
    n = (await app.ingestor.ingest(email_in(text="Broken desk", when=clock.now()))).conversation_number
    await local.type_line(f"#{n} !close", "alice")
    await app.dispatcher.drain()
    question = sent_mail(tmp_path / "out")[-1]
    old = replace(parse_email(_answer(question, "4"), inbox="support"), resynced=True)
    await app.ingestor.ingest(old)
    await app.dispatcher.drain()
    assert body_of(sent_mail(tmp_path / "out")[-1]) == body_of(question)  # no thanks to old mail
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(n or 0)
        assert conv is not None and await uow.csat.rating_of(conv.id) is None


async def test_a_real_answer_after_close_still_reopens(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    await local.type_line(f"#{result.conversation_number} !close", "alice")
    await app.dispatcher.drain()
    question = sent_mail(tmp_path / "out")[0]
    again = await app.ingestor.ingest(parse_email(_answer(question, "It broke again."), inbox="support"))
    assert again.reopened


async def test_no_survey_without_a_customer_message_or_when_not_configured(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out")
    app = await started_app(settings, clock)
    try:
        assert app.local is not None
        result = await app.ingestor.ingest(email_in(when=clock.now()))
        await app.local.type_line(f"#{result.conversation_number} !close", "alice")
        await app.dispatcher.drain()
        assert sent_mail(tmp_path / "out") == []
    finally:
        await app.stop()


async def test_csat_on_whatsapp_by_text(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(whatsapp_in(when=clock.now()))
    n = result.conversation_number or 0
    await local.type_line(f"#{n} !close", "bob")
    await app.dispatcher.drain()
    sent = [json.loads(line) for line in (tmp_path / "out" / "wa.jsonl").read_text().splitlines()]
    assert sent[-1]["text"]["body"] == "How did we do? Reply 1-5."
    rated = await app.ingestor.ingest(whatsapp_in(text="5", when=clock.now()))
    assert rated.conversation_number == n and not rated.reopened
    await app.dispatcher.drain()
    thread = local.thread(n)
    assert thread is not None and "customer rated this conversation 5/5 ★★★★★" in thread.texts("event")


async def test_a_digit_long_after_the_question_is_no_rating(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(whatsapp_in(when=clock.now()))
    await local.type_line(f"#{result.conversation_number} !close", "bob")
    await app.dispatcher.drain()
    clock.advance(timedelta(days=8))
    later = await app.ingestor.ingest(whatsapp_in(text="5 items are missing from my order", when=clock.now()))
    assert later.conversation_number != result.conversation_number and later.created_conversation
