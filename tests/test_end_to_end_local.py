"""End to end through the queue-backed local surface: email in → thread → commands → reply out → close."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from bot.clock import ManualClock
from testkit.inbound import email_in
from threadline.app import Threadline


async def test_conversation_is_worked_from_its_thread(
    app: Threadline, clock: ManualClock, tmp_path: Path
) -> None:
    local = app.local
    assert local is not None
    result = await app.ingestor.ingest(
        email_in(text="My desk arrived broken.", external_id="<c1@example.org>", when=clock.now())
    )
    await app.dispatcher.drain()
    thread = local.thread(result.conversation_number or 0)
    assert thread is not None
    assert thread.card.subject == "Refund for order 1881"
    assert thread.card.customer_address == "jane@example.org"
    assert thread.card.status == "open" and thread.card.assignee is None
    assert thread.posts[0].kind == "inbound" and thread.posts[0].text == "My desk arrived broken."

    number = thread.number
    assert (await local.type_line(f"#{number}", "alice")).ok  # focus the thread
    assert (await local.type_line("!claim", "alice")).ok
    assert (await local.type_line("!label +refund", "alice")).ok
    assert (await local.type_line("checking stock first", "alice")).ok  # plain text is a note
    assert (await local.type_line("!reply Sorry about that — a new one ships today.", "alice")).ok
    await app.dispatcher.drain()

    assert thread.card.assignee == "Alice Martin"
    assert thread.card.labels == ("refund",)
    assert "claimed by Alice Martin" in thread.texts("event")
    assert thread.texts("note") == ["checking stock first"]
    assert thread.texts("outbound") == ["Sorry about that — a new one ships today."]

    sent = list((tmp_path / "out").glob("*.eml"))
    assert len(sent) == 1
    mail = email.message_from_bytes(sent[0].read_bytes(), policy=policy.default)
    assert mail["To"] == "Jane Doe <jane@example.org>"
    assert mail["In-Reply-To"] == "<c1@example.org>"
    assert "<c1@example.org>" in mail["References"]
    assert mail["Subject"] == f"Re: Refund for order 1881 [#{number}]"
    body = mail.get_body(("plain",))
    assert body is not None and "Sorry about that" in body.get_content()

    assert (await local.type_line("!close", "alice")).ok
    await app.dispatcher.drain()
    assert thread.card.status == "closed"

    async with app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        actions = [e.action for e in await uow.audit.trail(conversation.id)]
        outbound = await uow.messages.messages_of(conversation.id, ["outbound"])
    assert actions == ["created", "claimed", "labelled", "noted", "replied", "closed"]
    assert outbound[0].delivery_status == "sent" and outbound[0].external_id == mail["Message-ID"]


async def test_customer_reply_to_our_mail_lands_in_the_same_conversation(
    app: Threadline, clock: ManualClock
) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(email_in(external_id="<a@example.org>", when=clock.now()))
    await local.type_line(f"#{first.conversation_number} !reply We are on it", "alice")
    await app.dispatcher.drain()
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(first.conversation_number or 0)
        assert conv is not None
        ours = (await uow.messages.messages_of(conv.id, ["outbound"]))[0].external_id
    assert ours and ours.startswith("<tl.")
    answer = await app.ingestor.ingest(
        email_in(subject="Re: Refund", external_id="<b@example.org>", thread_refs=(ours,), when=clock.now())
    )
    assert answer.conversation_number == first.conversation_number and not answer.created_conversation


async def test_errors_are_short_usage_lines_never_tracebacks(app: Threadline) -> None:
    local = app.local
    assert local is not None
    cases = {
        "!frobnicate": "unknown command 'frobnicate'",
        "!claim": "Use this inside a conversation thread",
        "#999 !claim": "No conversation #999.",
        "!snooze": "say until when",
        "!label": "usage: label",
    }
    for line, expected in cases.items():
        reply = await local.type_line(line, "alice")
        assert not reply.ok
        assert expected in reply.text, (line, reply.text)


async def test_queue_and_summary_in_the_terminal(app: Threadline, clock: ManualClock) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(
        email_in(text="Desk broken.", external_id="<q1@example.org>", when=clock.now())
    )
    await app.ingestor.ingest(
        email_in(text="Chair late.", subject="Chair", external_id="<q2@example.org>", when=clock.now())
    )
    await app.dispatcher.drain()
    assert (await local.type_line(f"#{first.conversation_number}", "alice")).ok
    assert (await local.type_line("!claim", "alice")).ok
    queue = await local.type_line("!queue", "alice")
    assert queue.ok
    mine, unassigned, breaching = queue.text.split("\n\n")[1:]
    assert mine.startswith("Mine (1):") and "#1" in mine and "Desk" not in mine.split("\n")[0]
    assert unassigned.startswith("Unassigned (1):") and "“Chair”" in unassigned
    assert breaching.startswith("Breaching soon (")
    assert (await local.type_line("!summary", "alice")).ok
    await app.dispatcher.drain()
    thread = local.thread(first.conversation_number or 0)
    assert thread is not None
    [summary] = [t for t in thread.texts("note") if t.startswith("Hand-over #1:")]
    assert "Asked: “Refund for order 1881”: Desk broken." in summary
