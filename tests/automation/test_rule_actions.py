"""Each rule action through ingest and the local surface: what the thread, the card and the customer see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.local import LocalThread
from bot.clock import ManualClock
from bot.ports.inbound import AutoKind
from testkit.app import started_app
from testkit.automation import automation_settings, body_of, sent_mail
from testkit.inbound import email_in
from threadline.app import Threadline

RULES = """
[inboxes.sales]
name = "Sales"
channel = "email"
address = "sales@example.com"
surface = "local"
chat_channel = "sales"

[[rules]]
name = "refunds"
subject_contains = ["refund"]
add_labels = ["refund", "billing"]
priority = "high"
note = "Refund policy: 30 days, check the order first."

[[rules]]
name = "refunds again"
subject_contains = ["refund"]
add_labels = ["refund", "bounce"]
note = "second"

[[rules]]
name = "vip"
sender_domain = ["bigcorp.com"]
assign = "bob"
priority = "urgent"

[[rules]]
name = "team"
body_contains = ["invoice"]
assign = "team:billing"

[[rules]]
name = "ack"
subject_contains = ["question"]
auto_reply = "ack"

[[rules]]
name = "broken-ack"
subject_contains = ["anonymous"]
auto_reply = "thanks"

[[rules]]
name = "to-sales"
body_regex = "\\\\b(quote|pricing)\\\\b"
route_to = "sales"
add_labels = ["lead"]
"""


@pytest.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", RULES)
    application = await started_app(settings, clock)
    yield application
    await application.stop()


async def _thread(app: Threadline, number: int | None) -> LocalThread:
    await app.dispatcher.drain()
    assert app.local is not None and number is not None
    thread = app.local.thread(number)
    assert thread is not None
    return thread


async def test_labels_priority_and_note(app: Threadline, clock: ManualClock) -> None:
    result = await app.ingestor.ingest(email_in(subject="Refund please", when=clock.now()))
    thread = await _thread(app, result.conversation_number)
    assert thread.card.labels == ("billing", "bounce", "refund")
    assert thread.card.priority == "high"
    assert "rule 'refunds': labels +refund +billing · priority high" in thread.texts("event")
    assert thread.texts("note") == ["Refund policy: 30 days, check the order first.", "second"]
    assert [p.author for p in thread.posts if p.kind == "note"] == ["rule 'refunds'", "rule 'refunds again'"]
    assert "rule 'refunds again': labels +bounce" in thread.texts("event")  # refund was there already


async def test_assign_to_an_agent_and_skip_when_away(app: Threadline, clock: ManualClock) -> None:
    first = await app.ingestor.ingest(email_in(sender="ceo@bigcorp.com", subject="Hello", when=clock.now()))
    thread = await _thread(app, first.conversation_number)
    assert thread.card.assignee == "Bob Stone" and thread.card.priority == "urgent"
    assert app.local is not None
    assert (await app.local.type_line("!away", "bob")).ok
    second = await app.ingestor.ingest(email_in(sender="cfo@bigcorp.com", subject="Hi", when=clock.now()))
    thread = await _thread(app, second.conversation_number)
    assert thread.card.assignee is None
    assert any("could not assign" in t and "Bob Stone is away" in t for t in thread.texts("notice"))


async def test_assign_to_a_team_takes_turns(app: Threadline, clock: ManualClock) -> None:
    names = []
    for n in range(5):
        result = await app.ingestor.ingest(
            email_in(sender=f"c{n}@example.net", subject="Bill", text="my invoice", when=clock.now())
        )
        names.append((await _thread(app, result.conversation_number)).card.assignee)
    assert names == ["Alice Martin", "Bob Stone", "Carol Reyes", "Dan Okafor", "Alice Martin"]


async def test_auto_reply_with_a_template_never_to_robots(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    result = await app.ingestor.ingest(email_in(subject="A question", when=clock.now()))
    thread = await _thread(app, result.conversation_number)
    mails = sent_mail(tmp_path / "out")
    assert len(mails) == 1
    assert mails[0]["Auto-Submitted"] == "auto-replied"
    assert body_of(mails[0]).startswith('Hi Jane, we got your message about "A question" and reply soon.')
    assert thread.texts("outbound") == ['Hi Jane, we got your message about "A question" and reply soon.']
    for kind in (AutoKind.AUTO_REPLY, AutoKind.BOUNCE, AutoKind.LIST):
        await app.ingestor.ingest(
            email_in(sender=f"{kind}@example.net", subject="A question", auto_kind=kind, when=clock.now())
        )
    await app.ingestor.ingest(  # read again after the mailbox was rebuilt: never answered
        email_in(sender="old@example.net", subject="A question", resynced=True, when=clock.now())
    )
    await app.dispatcher.drain()
    assert len(sent_mail(tmp_path / "out")) == 1  # no answer to auto-replies, bounces, lists or resyncs
    nobody = await app.ingestor.ingest(email_in(sender="", subject="A question", when=clock.now()))
    thread = await _thread(app, nobody.conversation_number)
    assert thread.texts("outbound") == [] and not any("not delivered" in t for t in thread.texts("notice"))
    assert len(sent_mail(tmp_path / "out")) == 1  # nor to a mail without a sender address


async def test_auto_reply_with_a_missing_value_is_flagged_not_sent(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    result = await app.ingestor.ingest(email_in(subject="anonymous tip", name=None, when=clock.now()))
    thread = await _thread(app, result.conversation_number)
    assert sent_mail(tmp_path / "out") == []
    notice = next(t for t in thread.texts("notice") if "was not sent" in t)
    assert "no value for {contact.first_name}, {agent.name}" in notice


async def test_route_to_another_inbox_opens_the_thread_in_its_channel(
    app: Threadline, clock: ManualClock
) -> None:
    result = await app.ingestor.ingest(email_in(subject="Hi", text="Can I get a quote?", when=clock.now()))
    thread = await _thread(app, result.conversation_number)
    assert thread.chat_channel == "sales" and thread.card.inbox == "Sales"
    assert thread.card.labels == ("lead",)
    assert "rule 'to-sales': routed from Support · labels +lead" in thread.texts("event")
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(thread.number)
        assert conv is not None and conv.inbox == "sales"


async def test_a_rule_label_equal_to_the_auto_kind_label(app: Threadline, clock: ManualClock) -> None:
    result = await app.ingestor.ingest(
        email_in(subject="Refund failed", auto_kind=AutoKind.BOUNCE, when=clock.now())
    )
    thread = await _thread(app, result.conversation_number)
    assert thread.card.labels == ("billing", "bounce", "refund")


async def test_new_conversation_rules_do_not_run_on_follow_ups(app: Threadline, clock: ManualClock) -> None:
    first = await app.ingestor.ingest(email_in(subject="Refund", external_id="<r1@x>", when=clock.now()))
    thread = await _thread(app, first.conversation_number)
    await app.ingestor.ingest(email_in(subject="Re: Refund", thread_refs=("<r1@x>",), when=clock.now()))
    await _thread(app, first.conversation_number)
    assert thread.texts("note") == ["Refund policy: 30 days, check the order first.", "second"]  # once
