"""Killed mid-re-mirror, nothing shows twice: a real ``threadline run`` (WhatsApp in, Slack HTTP mode against
the fake Slack), on SQLite and PostgreSQL. The bot is not in the inbox's Slack channel, so three
customers' conversations wait for repair; the bot is invited; the restarted instance heals the channel
and is killed (``os._exit(137)``) in the middle of re-mirroring, or right after queueing it; restarted
again, every conversation has one card whose thread shows each of its messages exactly once, in order."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from adapters.whatsapp import SIGNATURE_HEADER, sign_body
from testkit.processes.procs import Instance, until
from testkit.processes.state import rows
from testkit.processes.webhooks import SECRET, Webhooks, add_whatsapp, webhook_instance
from testkit.slack.fake import FakeSlack
from testkit.slack.rig import slack_surface
from testkit.whatsapp.payloads import envelope, message
from testkit.workers import free_port

CHANNEL = "C_SUPPORT"
CUSTOMERS = 3
MESSAGES = 3


def _text(customer: int, index: int) -> str:
    return f"customer {customer} message {index}"


def _body(customer: int, index: int) -> bytes:
    """Customer ``customer``'s ``index``-th WhatsApp message (one conversation per customer)."""
    wa_id = f"3162{customer:07d}"
    sent = datetime.fromtimestamp(1767603600 + index, UTC)
    text = message(
        "text",
        {"body": _text(customer, index)},
        when=sent,
        wamid=f"wamid.HEAL{customer}x{index}",
        wa_id=wa_id,
    )
    return json.dumps(envelope(messages=[text], name=f"Customer {customer}", wa_id=wa_id)).encode()


async def _post(port: int, customer: int, index: int) -> None:
    body = _body(customer, index)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(SECRET, body)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/webhooks/whatsapp", data=body, headers=headers) as answer,
    ):
        assert answer.status == 200


def _count(url: str, sql: str) -> int:
    found = rows(url, sql)
    return int(found[0][0]) if found else -1  # type: ignore[call-overload]


def _cards(slack: FakeSlack) -> list[dict]:
    """The conversation cards in the channel (not the channel notices)."""
    return [m for m in slack.roots(CHANNEL) if str(m.get("text", "")).startswith("#")]


def _threads(slack: FakeSlack) -> dict[int, list[list[str]]]:
    """What each customer's cards' threads show, in order (one list per card; -1: a card with none)."""
    shown: dict[int, list[list[str]]] = {}
    for card in _cards(slack):
        texts = [str(m.get("text", "")) for m in slack.thread(CHANNEL, card["ts"])]
        posts = [t for t in texts if t.startswith("customer ")]
        customers = {int(t.split()[1]) for t in posts} or {-1}
        for customer in customers:
            shown.setdefault(customer, []).append(posts)
    return shown


@pytest.mark.parametrize("fault", ["after_done:4", "remirror_queued:1"])
async def test_killed_mid_remirror_every_message_shows_once_in_order(
    process_db: str,
    slack: FakeSlack,
    tmp_path: Path,
    fault: str,
) -> None:
    slack.add_channel(CHANNEL, "support", member=False)
    port = free_port()
    config = tmp_path / "heal.toml"
    config.write_text(
        add_whatsapp(
            webhook_instance(process_db, port=port, instance="heal-a")
            .set("outbox", repair_probe_seconds=0.5)
            .set("surfaces.slack", **slack_surface(slack.url)),
            "slack",
            CHANNEL,
        ).toml()
    )
    instance = Instance(config, tmp_path, "heal")
    hooks = Webhooks(port)
    instance.start()
    await hooks.up(instance)
    for index in range(MESSAGES):  # each round stored before the next: the order within a conversation
        await asyncio.gather(*(_post(port, customer, index) for customer in range(CUSTOMERS)))
        stored = CUSTOMERS * (index + 1)

        def all_stored(n: int = stored) -> bool:
            return _count(process_db, "SELECT count(*) FROM messages WHERE kind = 'inbound'") == n

        await until(all_stored, 60, "messages stored", instance)
    await until(
        lambda: _count(process_db, "SELECT count(*) FROM mirror_repairs") == CUSTOMERS,
        60,
        "every conversation waiting for repair",
        instance,
    )
    assert slack.roots(CHANNEL) == []
    instance.terminate()
    assert await instance.exited() == 0
    told = [line for line in instance.stderr().splitlines() if "surface refuses" in line]
    assert len(told) == 1 and "/invite @Threadline" in told[0]

    slack.invite(CHANNEL)
    instance.start(fault)  # heals at start, then dies mid-re-mirror (or right after queueing it)
    assert await instance.exited(120) == 137, instance.stderr()[-3000:]
    instance.start()
    want = {c: [[_text(c, i) for i in range(MESSAGES)]] for c in range(CUSTOMERS)}  # one card each
    await until(lambda: _threads(slack) == want, 90, "every thread complete", instance)
    await until(
        lambda: _count(process_db, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0,
        60,
        "the outbox drained",
        instance,
    )
    await asyncio.sleep(1.0)  # anything posted twice would show up now
    assert _threads(slack) == want
    assert len(_cards(slack)) == CUSTOMERS
    notices = [str(m.get("text", "")) for m in slack.roots(CHANNEL) if m not in _cards(slack)]
    assert len(notices) == 1 and "works again" in notices[0]  # told once that it is healed, crash or not
    assert _count(process_db, "SELECT count(*) FROM mirror_repairs") == 0
    instance.terminate()
    assert await instance.exited() == 0
