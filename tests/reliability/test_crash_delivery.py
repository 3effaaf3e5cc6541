"""Posted once, sent once: real ``threadline run`` processes on SQLite and PostgreSQL, killed
(``os._exit(137)`` at a kill point) after a platform accepted a delivery and before it was marked done,
then restarted. Afterwards the team sees each card and message once in Slack (message metadata and a
``conversations.replies`` / ``conversations.history`` check before re-posting), the customer gets
the reply mail once (the SMTP sink; a send record before marking done), and every part of a long
WhatsApp reply once (per-part send records)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from adapters.whatsapp import SIGNATURE_HEADER, sign_body
from bot.clock import SystemClock
from bot.commands import Actor, CommandService, Location
from storage import Store
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.state import rows, safe_snapshot, snapshot
from testkit.processes.webhooks import SECRET, Webhooks, add_whatsapp, slack_instance, webhook_instance
from testkit.slack.fake import FakeSlack
from testkit.whatsapp.graph import TOKEN, FakeGraph
from testkit.whatsapp.payloads import envelope, message
from testkit.workers import free_port
from threadline.config import load_config


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    """The fake WhatsApp Cloud API the instance sends replies to."""
    fake = FakeGraph()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def _reply(config: Path, url: str, number: int, text: str) -> None:
    """Alice's reply, written by a separate process's core (as a Slack event would be)."""
    store = Store(url)
    try:
        service = CommandService(store, load_config(config), SystemClock(), lambda: None)
        reply = await service.handle(
            Actor("local", "alice", "Alice Martin"), f"!reply {text}", Location("local", number=number)
        )
        assert reply.ok, reply.text
    finally:
        await store.close()


def _settled(url: str) -> bool:
    state = safe_snapshot(url)
    return state is not None and state.pending_outbox == 0 and bool(state.threads)


@pytest.mark.parametrize("fault", ["delivered_post:1", "thread_created:1"])
async def test_a_slack_post_made_before_a_kill_is_not_posted_again(
    process_db: str, slack: FakeSlack, tmp_path: Path, fault: str
) -> None:
    port = free_port()
    config = tmp_path / "slack.toml"
    config.write_text(add_whatsapp(slack_instance(process_db, port, slack.url), "slack", "C_SUPPORT").toml())
    instance = Instance(config, tmp_path, "slack")
    hooks = Webhooks(port)
    instance.start(fault)  # posts the card (and the customer's message), dies before recording it
    await hooks.up(instance)
    await hooks.post([0])
    assert hooks.acked == {0}
    assert await instance.exited() == 137, instance.stderr()[-3000:]
    assert len(slack.roots("C_SUPPORT")) == 1  # Slack has the card already

    instance.start()
    await until(lambda: _settled(process_db), 60, "the delivery recorded", instance)
    instance.terminate()
    assert await instance.exited() == 0
    (card,) = slack.roots("C_SUPPORT")  # one card
    posts = [m for m in slack.thread("C_SUPPORT", card["ts"]) if "order 1000" in json.dumps(m.get("blocks"))]
    assert len(posts) == 1, slack.thread("C_SUPPORT", card["ts"])  # the customer's message, once
    assert slack.called("conversations.replies" if fault.startswith("delivered") else "conversations.history")
    assert rows(process_db, "SELECT thread_id FROM threads") == [(card["ts"],)]


async def test_a_mail_sent_before_a_kill_is_not_sent_again(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "a.toml", process_db, imap=dovecot.port, smtp=smtp.port, instance="mail-a"
    )
    instance = Instance(config, tmp_path, "a")
    imap = dovecot.client()
    imap.append("INBOX", customer_mail(1, "once"))
    instance.start()
    await until(lambda: _settled(process_db), 60, "the mail stored and shown", instance)
    instance.terminate()
    assert await instance.exited() == 0

    await _reply(config, process_db, 1, "Your parcel left today.")
    instance.start("delivered_send:1")  # the SMTP server accepted the reply; killed before marking it sent
    assert await instance.exited() == 137, instance.stderr()[-3000:]
    assert len(smtp.message_ids) == 1

    instance.start()
    await until(
        lambda: (
            (s := safe_snapshot(process_db)) is not None
            and s.pending_outbox == 0
            and s.outbound[0][2] == "sent"
        ),
        60,
        "the reply marked sent",
        instance,
    )
    instance.terminate()
    assert await instance.exited() == 0
    state = snapshot(process_db)
    assert len(smtp.message_ids) == 1  # the customer got the mail exactly once
    assert [external for _, external, _ in state.outbound] == smtp.message_ids
    assert instance.stdout().count("Your parcel left today.") >= 1  # echoed in the thread
    imap.logout()


def _customer_webhook(n: int) -> bytes:
    """Customer ``n`` writes now (so the 24-hour reply window is open)."""
    wa_id = f"3162{n:07d}"
    text = message(
        "text", {"body": "is my order late?"}, when=datetime.now(UTC), wamid=f"wamid.P{n}", wa_id=wa_id
    )
    return json.dumps(envelope(messages=[text], name=f"Customer {n}", wa_id=wa_id)).encode()


async def test_each_part_of_a_long_whatsapp_reply_reaches_the_customer_once(
    process_db: str, graph: FakeGraph, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "wa.toml"
    settings = (
        webhook_instance(process_db, port=port, instance="parts-a")
        .local_surface("alice", color=False)
        .agent("alice", "Alice Martin", local="alice")
    )
    config.write_text(
        add_whatsapp(settings, "local", "whatsapp", graph_url=graph.url, access_token=TOKEN).toml()
    )
    instance = Instance(config, tmp_path, "wa")
    instance.start()
    await Webhooks(port).up(instance)
    body = _customer_webhook(1)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(SECRET, body)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/webhooks/whatsapp", data=body, headers=headers) as response,
    ):
        assert response.status == 200
    await until(lambda: _settled(process_db), 60, "the customer's message stored and shown", instance)
    instance.terminate()
    assert await instance.exited() == 0

    paragraphs = [f"Part {n}: " + "x" * 4000 for n in range(3)]  # three WhatsApp messages of ≤ 4,096
    await _reply(config, process_db, 1, "\n".join(paragraphs))
    for kill in range(2):  # killed after the first part, then (a new process) after the second
        instance.start("whatsapp_part_sent:1")
        assert await instance.exited() == 137, instance.stderr()[-3000:]
        assert len(graph.sent) == kill + 1
    instance.start()
    await until(
        lambda: (
            (s := safe_snapshot(process_db)) is not None
            and s.pending_outbox == 0
            and s.outbound[0][2] == "sent"
        ),
        60,
        "the reply marked sent",
        instance,
    )
    instance.terminate()
    assert await instance.exited() == 0
    texts = [m["text"]["body"] for m in graph.sent]
    assert [t.split(":")[0] for t in texts] == ["Part 0", "Part 1", "Part 2"]  # each part exactly once
    assert snapshot(process_db).outbound[0][1] == "wamid.OUT1"  # the reply is known by its first part
