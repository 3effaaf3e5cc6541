"""End to end on SQLite: an email arrives → card and thread in (fake) Slack → worked there → email out."""

from __future__ import annotations

import email
import logging
from email import policy

from testkit.slack.payloads import block_action, message_event, slash
from testkit.slack.read import card_fields, literal_text


async def test_email_to_slack_and_back(world) -> None:
    number = await world.email("Hello, I want a refund for order 1881.")
    await world.settle()

    card = world.card()
    assert card["text"].startswith(f"#{number} · email · Ann Customer")
    fields = card_fields(card)
    assert "open" in fields["Status"] and fields["Assignee"] == "_unassigned_"
    thread = world.fake.thread("C_SUPPORT", card["ts"])
    assert thread[0]["username"] == "Ann Customer (customer)"
    assert "refund for order 1881" in literal_text(thread[0])

    claim = next(e for e in card["blocks"][-1]["elements"] if e["action_id"] == "tl_claim")
    response = await world.dispatch(
        block_action({**claim, "block_id": card["blocks"][-1]["block_id"]}, card=card)
    )
    assert response.status == 200
    await world.settle()

    response = await world.dispatch(message_event("!label +refund", thread_ts=card["ts"]))
    assert response.status == 200
    await world.settle()
    response = await world.dispatch(
        message_event("!reply Thanks, the refund is on its way.", thread_ts=card["ts"])
    )
    await world.settle()

    sent = sorted(p for p in world.outgoing.glob("*.eml"))
    assert len(sent) == 1
    mail = email.message_from_bytes(sent[0].read_bytes(), policy=policy.default)
    assert mail["To"].addresses[0].addr_spec == "ann@example.com"
    body = mail.get_body(("plain",))
    assert body is not None and "Thanks, the refund is on its way." in body.get_content()

    final = world.fake.last_update(card["ts"])
    assert final is not None
    fields = card_fields(final)
    assert fields["Assignee"] == "Alice"
    assert "`refund`" in fields["Labels"]
    texts = [m["text"] for m in world.fake.thread("C_SUPPORT", card["ts"])]
    assert any("claimed by Alice" in t for t in texts)
    assert any("Thanks, the refund is on its way." in t for t in texts)  # the echo of the reply


async def test_slash_command_anywhere_answers_ephemerally(world) -> None:
    number = await world.email("Where is my parcel?", subject="Parcel")
    await world.settle()
    response = await world.dispatch(slash(f"claim #{number}", response_url=f"{world.fake.root}/response/1"))
    assert response.status == 200 and response.body == ""
    await world.settle()
    assert world.fake.responses[-1]["text"] == f"You claimed #{number}."
    assert world.fake.responses[-1]["response_type"] == "ephemeral"
    await world.dispatch(slash("list mine", response_url=f"{world.fake.root}/response/2"))
    await world.settle()
    assert f"#{number}" in world.fake.responses[-1]["text"]
    await world.dispatch(slash("close #999", response_url=f"{world.fake.root}/response/3"))
    await world.settle()
    assert "No conversation #999" in world.fake.responses[-1]["text"]
    assert card_fields(world.fake.last_update(world.card()["ts"]))["Assignee"] == "Alice"


async def test_a_customer_mail_of_40000_characters_appears_whole_and_in_order(world) -> None:
    text = "".join(
        f"Paragraph {i:03d}: " + "the desk & its <legs> arrived *broken* " * 9 + "\n\n" for i in range(110)
    )
    assert len(text) >= 40_000
    await world.email(text)
    await world.settle()
    thread = world.fake.thread("C_SUPPORT", world.card()["ts"])
    assert len(thread) > 3 and world.fake.refusals == []  # the old renderer: msg_blocks_too_long
    assert all(m["username"] == "Ann Customer (customer)" for m in thread)
    shown = "".join(literal_text(m) for m in thread)
    assert shown.replace("\n", "") == text.replace("\n", "")


async def test_no_token_warning_at_start(make_world, monkeypatch, caplog) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    caplog.set_level(logging.DEBUG)
    await make_world()
    bolt = [r for r in caplog.records if r.name.startswith(("adapters.slack", "slack_bolt", "slack_sdk"))]
    assert not [r for r in bolt if "token" in r.getMessage().lower()]  # bolt's token/client warning
    assert "xoxb" not in caplog.text
