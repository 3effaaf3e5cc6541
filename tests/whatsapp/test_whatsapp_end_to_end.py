"""End to end: WhatsApp in → thread → !reply → Graph API → statuses in the thread → the 24-hour window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.automation.csat import CSAT_CHOICES
from bot.clock import ManualClock
from testkit.app import started_app
from testkit.settings import make_settings
from testkit.whatsapp.graph import FakeGraph
from testkit.whatsapp.payloads import CUSTOMER, envelope, message, status
from testkit.whatsapp.rig import WhatsAppRig, whatsapp_config


async def _outbound(rig: WhatsAppRig, number: int) -> list[tuple[str | None, str | None, str | None]]:
    async with rig.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        rows = await uow.messages.messages_of(conversation.id, ["outbound"])
        return [(m.external_id, m.delivery_status, m.delivery_error) for m in rows]


async def test_whatsapp_conversation_end_to_end(rig: WhatsAppRig) -> None:
    local, graph, clock = rig.app.local, rig.graph, rig.clock
    assert local is not None
    graph.media["img1"] = (b"\xff\xd8\xff photo of a broken desk", "image/jpeg")
    now = clock.now()
    await rig.deliver(
        envelope(
            messages=[
                message("text", {"body": "My desk arrived broken"}, wamid="wamid.IN-A", when=now),
                message(
                    "image",
                    {"id": "img1", "mime_type": "image/jpeg", "caption": "see photo"},
                    wamid="wamid.IN-B",
                    when=now,
                ),
            ]
        )
    )
    thread = next(iter(local.threads.values()))
    number = thread.number
    assert thread.card.channel == "whatsapp" and thread.card.customer == "Sofia Jansen"
    assert thread.texts("inbound") == ["My desk arrived broken", "see photo"]
    photo = thread.posts[1].attachments[0]
    assert photo.filename == "image-img1.jpg" and photo.data == b"\xff\xd8\xff photo of a broken desk"

    # reply inside the window: the fake Graph API gets the Cloud API JSON
    reply = await local.type_line(f"#{number} !reply Sorry! A new desk ships today.", "alice")
    assert reply.ok, reply.text
    await rig.settle()
    assert graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": "text",
            "text": {"preview_url": False, "body": "Sorry! A new desk ships today."},
        }
    ]
    assert graph.read_marks == [
        "wamid.IN-B"
    ]  # mark_read_on_claim: the customer's last message got blue ticks
    assert thread.texts("outbound") == ["Sorry! A new desk ships today."]
    [(wamid, state, _)] = await _outbound(rig, number)
    assert wamid == "wamid.OUT1" and state == "sent"

    # statuses: delivered silently, read as one compact line; a late 'delivered' never downgrades
    await rig.deliver(
        envelope(
            statuses=[
                status("wamid.OUT1", "delivered", when=now),
                status("wamid.OUT1", "read", when=now),
                status("wamid.OUT1", "delivered", when=now),
            ]
        )
    )
    notices = thread.texts("notice")
    assert notices == ["✓✓ read by the customer: “Sorry! A new desk ships today.”"]
    assert (await _outbound(rig, number))[0][1] == "read"

    # 25 hours later the window is closed: refused before anything is sent, with the template hint
    clock.advance(timedelta(hours=25))
    refused = await local.type_line(f"#{number} !reply are you still there?", "alice")
    assert not refused.ok
    assert "24 h window closed 1 h ago" in refused.text and "last wrote 25 h ago" in refused.text
    assert "!template NAME" in refused.text and "order_update" in refused.text
    await rig.settle()
    assert len(graph.sent) == 1

    # a template works outside the window
    sent = await local.type_line(f'#{number} !template order_update "Sofia Jansen" 1881', "alice")
    assert sent.ok, sent.text
    await rig.settle()
    assert graph.sent[1]["type"] == "template"
    assert graph.sent[1]["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Sofia Jansen"}, {"type": "text", "text": "1881"}],
            }
        ],
    }
    assert thread.texts("outbound")[-1] == "Hi Sofia Jansen, your order 1881 has shipped."

    # wrong template use is explained, not sent
    assert (
        "takes 2 parameter(s)"
        in (await local.type_line(f"#{number} !template order_update Sofia", "alice")).text
    )
    assert "No template 'nope'" in (await local.type_line(f"#{number} !template nope", "alice")).text
    assert len(graph.sent) == 2


async def test_failures_show_in_the_thread_and_can_be_retried(rig: WhatsAppRig) -> None:
    local, graph, clock = rig.app.local, rig.graph, rig.clock
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "hello?"}, when=clock.now())]))
    thread = next(iter(local.threads.values()))

    # Meta accepts the message, then reports it failed (status webhook with an error)
    assert (await local.type_line(f"#{thread.number} !reply first answer", "alice")).ok
    await rig.settle()
    await rig.deliver(
        envelope(
            statuses=[
                status(
                    "wamid.OUT1",
                    "failed",
                    when=clock.now(),
                    errors=[
                        {
                            "code": 131026,
                            "title": "Message undeliverable",
                            "error_data": {"details": "The recipient is not a valid WhatsApp user."},
                        }
                    ],
                )
            ]
        )
    )
    failed = thread.texts("notice")[-1]
    assert "The reply by Alice Martin (“first answer”) was not delivered" in failed
    assert "Message undeliverable (code 131026)" in failed
    assert "!retry" not in failed and "will not help" in failed  # undeliverable: retrying cannot help
    assert (await _outbound(rig, thread.number))[0][1] == "failed"

    # the Graph API itself refuses: 131047 is final and says what to do; the thread shows it
    graph.fail(131047)
    assert (await local.type_line(f"#{thread.number} !reply second answer", "alice")).ok
    await rig.settle()
    refused = thread.texts("notice")[-1]
    assert "was not delivered" in refused and "131047" in refused and "template" in refused

    # a throughput limit is retried, not shown as a failure
    graph.fail(130429)
    assert (await local.type_line(f"#{thread.number} !retry", "alice")).ok
    await rig.settle()
    clock.advance(timedelta(minutes=2))
    await rig.settle()
    states = [state for _, state, _ in await _outbound(rig, thread.number)]
    assert states == ["sent", "sent"]
    assert [m["text"]["body"] for m in graph.sent][-2:] == ["first answer", "second answer"]


async def test_a_receipt_that_beats_the_send_record_is_applied_later(rig: WhatsAppRig) -> None:
    local, clock = rig.app.local, rig.clock
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "hi"}, when=clock.now())]))
    thread = next(iter(local.threads.values()))
    # Meta's 'read' arrives before Threadline recorded the wamid of the send
    await rig.deliver(envelope(statuses=[status("wamid.OUT1", "read", when=clock.now())]))
    assert list(rig.channel.unmatched) == [("wamid.OUT1", "read")]
    assert (await local.type_line(f"#{thread.number} !reply hello", "alice")).ok
    await rig.settle()
    assert await rig.channel.retry_unmatched_statuses() == 1
    await rig.settle()
    assert not rig.channel.unmatched
    assert thread.texts("notice") == ["✓✓ read by the customer: “hello”"]


async def test_retry_outside_the_window_is_refused_with_the_template_hint(rig: WhatsAppRig) -> None:
    local, graph, clock = rig.app.local, rig.graph, rig.clock
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "hi"}, when=clock.now())]))
    thread = next(iter(local.threads.values()))
    graph.fail(131047)
    assert (await local.type_line(f"#{thread.number} !reply late answer", "alice")).ok
    await rig.settle()
    clock.advance(timedelta(hours=30))
    refused = await local.type_line(f"#{thread.number} !retry", "alice")
    assert not refused.ok and "window closed 6 h ago" in refused.text and "!template NAME" in refused.text


async def test_satisfaction_survey_is_an_interactive_list_and_the_pick_is_the_rating(
    tmp_path: Path, graph: FakeGraph, clock: ManualClock
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path}/threadline.db",
        tmp_path / "out",
        whatsapp_config(graph.url) + '\n[inboxes.whatsapp.csat]\nquestion = "How did we do?"\n',
    )
    app = await started_app(settings, clock)
    assert app.local is not None
    rig = WhatsAppRig.around(app, clock, graph)
    await rig.channel.start()
    await app.web.start()
    try:
        await rig.deliver(
            envelope(
                messages=[message("text", {"body": "Thanks, solved"}, wamid="wamid.S1", when=clock.now())]
            )
        )
        number = next(iter(app.local.threads.values())).number
        await app.local.type_line(f"#{number} !close", "alice")
        await rig.settle()
        survey = graph.sent[-1]
        assert survey["type"] == "interactive"
        assert survey["interactive"]["body"]["text"] == "How did we do?"
        rows = survey["interactive"]["action"]["sections"][0]["rows"]
        assert [r["title"] for r in rows] == list(CSAT_CHOICES)
        picked = {"type": "list_reply", "list_reply": {"id": rows[1]["id"], "title": rows[1]["title"]}}
        await rig.deliver(
            envelope(messages=[message("interactive", picked, wamid="wamid.S2", when=clock.now())])
        )
        await rig.settle()
        thread = app.local.thread(number)
        assert thread is not None and thread.card.status == "closed"
        assert "customer rated this conversation 4/5 ★★★★☆" in thread.texts("event")
    finally:
        await rig.close()
