"""Crash safety of the undo window with real processes: a reply held in the outbox when ``threadline run``
is SIGKILLed, whose window passes while it is down, is sent exactly once after the restart (SQLite and
PostgreSQL; email in from a real Dovecot, the reply out to a real SMTP server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.clock import SystemClock
from bot.commands import Actor, CommandService, Location
from storage import Store
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.state import safe_snapshot, snapshot
from threadline.config import load_config

WINDOW = 3  # seconds


async def _reply(config: Path, url: str, number: int, text: str) -> None:
    """Alice replies through a separate process's core (as a Slack event would arrive)."""
    store = Store(url)
    try:
        service = CommandService(store, load_config(config), SystemClock(), lambda: None)
        actor = Actor("local", "alice", "Alice Martin")
        answer = await service.handle(actor, f"!reply {text}", Location("local", number=number))
        assert answer.ok, answer.text
    finally:
        await store.close()


async def test_a_held_reply_whose_window_passed_while_down_is_sent_once(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "u.toml", process_db, imap=dovecot.port, smtp=smtp.port, instance="undo")
    config.write_text(config.read_text().replace("undo_seconds = 0 ", f"undo_seconds = {WINDOW} "))
    instance = Instance(config, tmp_path, "u")
    imap = dovecot.client()
    imap.append("INBOX", customer_mail(1, "undo"))
    instance.start()
    try:
        await until(
            lambda: (safe_snapshot(process_db) or snapshot(process_db)).conversations == 1,
            60,
            "the customer's mail stored",
            instance,
        )
        await _reply(config, process_db, 1, "Held, then sent after the crash.")
        instance.kill()  # SIGKILL inside the undo window: nothing has left yet
        assert smtp.message_ids == []
        await asyncio.sleep(WINDOW + 1)  # the window passes while Threadline is down
        instance.start()

        def sent() -> bool:
            state = safe_snapshot(process_db)
            return state is not None and state.pending_outbox == 0 and len(smtp.message_ids) >= 1

        await until(sent, 60, "the held reply delivered after the restart", instance)
        await asyncio.sleep(1)  # a second delivery, if there were one, would be on its way by now
    finally:
        instance.terminate()
    assert await instance.exited(timeout=30) == 0
    state = snapshot(process_db)
    assert len(smtp.message_ids) == 1
    assert [status for *_, status in state.outbound] == ["sent"]
    imap.logout()
