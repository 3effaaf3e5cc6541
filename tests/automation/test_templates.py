"""Canned replies: placeholders, missing values flagged (never sent), list/preview/save, channel-aware."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.automation.templates import render_body
from bot.clock import ManualClock
from testkit.app import started_app
from testkit.automation import automation_settings, body_of, sent_mail
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline

WHATSAPP_TEMPLATES = """
[templates.hello_again]
body = "Hello again {contact.first_name}!"
"""


def test_render_fills_and_flags() -> None:
    values = {"contact.first_name": "Jane", "agent.name": None, "conversation.number": "7"}
    done = render_body("Hi {contact.first_name}, about #{conversation.number}", values)
    assert done.ok and done.text == "Hi Jane, about #7"
    flagged = render_body("Hi {contact.first_name}, {agent.name} here {agent.name}. {order.id}", values)
    assert not flagged.ok
    assert flagged.missing == ("agent.name",) and flagged.unknown == ("order.id",)
    assert "no value for {agent.name}" in flagged.problem("x")
    assert "unknown placeholder {order.id}" in flagged.problem("x")
    assert render_body("Hi {contact.first_name}", {"contact.first_name": "  "}).missing == (
        "contact.first_name",
    )
    assert render_body("Plain {text} and {{braces}}", {}).ok  # not placeholders


@pytest.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", WHATSAPP_TEMPLATES)
    application = await started_app(settings, clock)
    yield application
    await application.stop()


async def test_template_send_on_email(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    n = result.conversation_number
    reply = await app.local.type_line(f"#{n} !template thanks", "alice")
    assert reply.ok, reply.text
    await app.dispatcher.drain()
    mails = sent_mail(tmp_path / "out")
    assert len(mails) == 1
    assert body_of(mails[0]).startswith(f"Hi Jane, thanks for writing about #{n}. — Alice Martin")
    assert mails[0]["Auto-Submitted"] is None  # an agent's own reply, not automatic


async def test_missing_value_is_flagged_before_sending(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(name=None, when=clock.now()))
    await app.local.type_line(f"#{result.conversation_number}", "alice")  # focus the thread
    reply = await app.local.type_line("!template thanks", "alice")
    assert not reply.ok
    assert "not sent: no value for {contact.first_name}" in reply.text
    preview = await app.local.type_line("!template preview thanks", "alice")
    assert not preview.ok and preview.ephemeral
    assert "Hi {contact.first_name}, thanks" in preview.text and "⚠" in preview.text
    await app.dispatcher.drain()
    assert sent_mail(tmp_path / "out") == []


async def test_list_preview_and_save(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(email_in(when=clock.now()))
    n = result.conversation_number
    await app.local.type_line(f"#{n}", "bob")  # focus the thread
    preview = await app.local.type_line("!template preview thanks", "bob")
    assert preview.ok and preview.ephemeral
    assert f"Hi Jane, thanks for writing about #{n}. — Bob Stone" in preview.text
    assert (await app.local.type_line("!reply We'll ship a replacement today.", "bob")).ok
    saved = await app.local.type_line("!template save shipped", "bob")  # the last reply, placeholders kept
    assert saved.ok, saved.text
    assert (
        await app.local.type_line("!template save hours We're open 9-17, {contact.first_name}.", "bob")
    ).ok
    listing = await app.local.type_line("!template list", "bob")
    assert listing.ok
    for name in ("thanks (config)", "ack (config)", "shipped (saved)", "hours (saved)"):
        assert name in listing.text
    assert not (await app.local.type_line("!template save thanks other", "bob")).ok  # config names are taken
    assert not (await app.local.type_line("!template nosuch", "bob")).ok
    await app.dispatcher.drain()
    clock.advance(timedelta(minutes=5))
    assert (await app.local.type_line("!template hours", "bob")).ok
    await app.dispatcher.drain()
    assert body_of(sent_mail(tmp_path / "out")[-1]).startswith("We're open 9-17, Jane.")


async def test_one_template_command_on_whatsapp(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    assert app.local is not None
    result = await app.ingestor.ingest(whatsapp_in(name="Sofia Rossi", when=clock.now()))
    n = result.conversation_number
    await app.local.type_line(f"#{n}", "alice")  # focus the thread
    assert (await app.local.type_line("!template hello_again", "alice")).ok  # canned, window open
    await app.dispatcher.drain()
    lines = (tmp_path / "out" / "wa.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["text"]["body"] == "Hello again Sofia!"
    clock.advance(timedelta(hours=25))
    refused = await app.local.type_line("!template hello_again", "alice")
    assert not refused.ok and "WhatsApp 24 h window closed" in refused.text  # canned = free-form
