"""After a Slack ack nothing is lost: a real ``threadline run`` (Slack HTTP mode against the fake Slack,
WhatsApp in), on SQLite and PostgreSQL, killed right after it acknowledged a thread message, then
restarted: the note is stored exactly once and the journal is done."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from testkit.processes.procs import Instance, until
from testkit.processes.state import rows
from testkit.processes.webhooks import Webhooks, add_whatsapp, slack_instance
from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import message_event
from testkit.workers import free_port


async def test_kill_right_after_a_slack_ack_loses_nothing(
    process_db: str, slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "slack.toml"
    config.write_text(add_whatsapp(slack_instance(process_db, port, slack.url), "slack", "C_SUPPORT").toml())
    instance = Instance(config, tmp_path, "slack")
    hooks = Webhooks(port)
    instance.start()
    await hooks.up(instance)
    await hooks.post([0])
    await until(lambda: bool(slack.roots("C_SUPPORT")), 60, "the card in Slack", instance)
    card = slack.roots("C_SUPPORT")[-1]
    instance.terminate()
    assert await instance.exited() == 0

    instance.start("journal_claimed:1")  # dies when the worker picks up the acknowledged event
    await hooks.up(instance)
    event = message_event("refund approved, ships today", thread_ts=card["ts"], event_id="Ev0CRASH")
    headers = {key: value if isinstance(value, str) else value[0] for key, value in event.headers.items()}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/slack/events", data=event.raw_body, headers=headers) as response,
    ):
        assert response.status == 200  # acknowledged
    assert await instance.exited() == 137, instance.stderr()[-3000:]
    assert not rows(process_db, "SELECT id FROM messages WHERE kind = 'note'")  # not processed yet

    instance.start()
    await until(
        lambda: rows(process_db, "SELECT count(*) FROM messages WHERE kind = 'note'") == [(1,)],
        60,
        "the note stored",
        instance,
    )
    instance.terminate()
    assert await instance.exited() == 0
    notes = rows(process_db, "SELECT text FROM messages WHERE kind = 'note'")
    assert notes == [("refund approved, ships today",)]  # stored exactly once
    assert rows(process_db, "SELECT state, count(*) FROM journal GROUP BY state") == [("done", 2)]
    assert len(slack.roots("C_SUPPORT")) == 1  # the team sees one card
