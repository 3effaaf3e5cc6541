"""Acknowledged means stored: real ``threadline run`` processes with the WhatsApp webhook, on SQLite and
PostgreSQL, killed (``os._exit(137)`` at a kill point, or SIGKILL from outside) at each step between
the webhook and the stored message, then restarted.

Signed webhooks are posted over HTTP the way Meta posts them. Meta never redelivers a webhook it got
a 200 for, and redelivers every other one; the test does the same (every post that got no 200 is
posted again after the restart). Afterwards each customer message is stored exactly once, in its own
conversation with one thread, every journal entry is done, and the team saw every message.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import sync_url
from testkit.processes.procs import Instance, until
from testkit.processes.state import safe_snapshot, snapshot
from testkit.processes.webhooks import Webhooks, add_whatsapp, webhook_instance
from testkit.workers import free_port


def _journal_states(url: str) -> Counter[str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            return Counter(
                {
                    str(s): int(c)
                    for s, c in db.execute(text("SELECT state, count(*) FROM journal GROUP BY state"))
                }
            )
    finally:
        engine.dispose()


def _stored(url: str) -> Counter[str]:
    state = safe_snapshot(url)
    return Counter(m for m, _ in state.inbound) if state is not None else Counter()


def _wamid(n: int) -> str:
    return f"wamid.CRASH{n:05d}"


async def _settle_and_check(url: str, instance: Instance, hooks: Webhooks, count: int) -> None:
    """Every acknowledged message stored; then Meta's redeliveries of the rest; then the exact counts."""
    await until(
        lambda: set(_stored(url)) >= {_wamid(n) for n in hooks.acked},
        60,
        "every acknowledged message stored",
        instance,
    )
    missing = [n for n in range(count) if n not in hooks.acked]
    await hooks.post(missing)  # Meta redelivers what got no 200
    assert hooks.acked == set(range(count)), hooks.refused
    await until(lambda: len(_stored(url)) == count, 60, "every message stored", instance)
    await until(lambda: not snapshot(url).pending_outbox, 60, "every message shown", instance)
    instance.terminate()
    assert await instance.exited(timeout=60) == 0, instance.stderr()[-3000:]
    stored = _stored(url)
    assert stored == Counter({_wamid(n): 1 for n in range(count)})  # acknowledged = stored, once
    state = snapshot(url)
    assert state.conversations == count
    assert all(state.threads[conv] == 1 for _, conv in state.inbound), state.threads
    assert state.failed_outbox == 0
    journal = _journal_states(url)
    assert journal["pending"] == 0 and journal["failed"] == 0 and journal["done"] >= count, journal
    shown = instance.stdout()
    for n in range(count):  # the team saw every message in its thread
        assert f"where is my order {1000 + n}?" in shown, f"message {n} never shown"


async def _after_a_burst(tmp_path: Path, url: str, fault: str | None = None) -> tuple[Instance, Webhooks]:
    """An instance (``fault`` armed) that was sent ``COUNT`` webhooks."""
    instance, hooks = _instance(tmp_path, url)
    instance.start(fault)
    await hooks.up(instance)
    await hooks.post(list(range(COUNT)))
    return instance, hooks


def _instance(tmp_path: Path, url: str) -> tuple[Instance, Webhooks]:
    port = free_port()
    config = tmp_path / "journal.toml"
    settings = webhook_instance(url, port=port, instance="journal-a").local_surface("alice", color=False)
    config.write_text(add_whatsapp(settings, "local", "whatsapp").toml())
    return Instance(config, tmp_path, "journal"), Webhooks(port)


COUNT = 40

KILL_POINTS = [
    "journaled:5",  # a body committed to the journal, its 200 not yet sent
    "journal_claimed:1",  # the worker claimed entries, nothing ingested
    "mid_batch:1",  # an ingest batch written, not committed
    "after_commit:3",  # ingest committed (the entry marked done with it), nothing posted yet
]


@pytest.mark.parametrize("point", KILL_POINTS)
async def test_kill_point_between_webhook_and_stored_message(
    process_db: str, tmp_path: Path, point: str
) -> None:
    instance, hooks = await _after_a_burst(tmp_path, process_db, point)
    assert await instance.exited(timeout=60) == 137, instance.stderr()[-3000:]
    instance.start()
    await hooks.up(instance)
    await _settle_and_check(process_db, instance, hooks, COUNT)


async def test_sigkill_right_after_the_200s(process_db: str, tmp_path: Path) -> None:
    instance, hooks = await _after_a_burst(tmp_path, process_db)
    assert hooks.acked == set(range(COUNT))
    instance.kill()  # every webhook answered 200, most not yet ingested
    instance.start()
    await hooks.up(instance)
    await _settle_and_check(process_db, instance, hooks, COUNT)


async def test_sigterm_refuses_new_webhooks_drains_and_a_kill_during_the_drain_loses_nothing(
    process_db: str, tmp_path: Path
) -> None:
    instance, hooks = await _after_a_burst(tmp_path, process_db)
    instance.terminate()  # stop intake, then drain
    await asyncio.sleep(0.05)
    await hooks.post(list(range(COUNT, COUNT + 10)))  # arrive during the drain: 503 (or no listener)
    assert not {n for n in hooks.acked if n >= COUNT}, "a webhook was accepted after SIGTERM"
    assert sum(hooks.refused.values()) == 10
    assert instance.process is not None
    instance.process.send_signal(signal.SIGKILL)  # and killed during the drain
    await instance.exited()
    instance.start()
    await hooks.up(instance)
    await _settle_and_check(process_db, instance, hooks, COUNT + 10)


async def test_sigterm_drains_every_acknowledged_webhook_before_it_exits(
    process_db: str, tmp_path: Path
) -> None:
    instance, hooks = await _after_a_burst(tmp_path, process_db)
    instance.terminate()
    assert await instance.exited(timeout=60) == 0, instance.stderr()[-3000:]
    stored = _stored(process_db)
    assert stored == Counter({_wamid(n): 1 for n in hooks.acked})  # drained: nothing left for later
    assert _journal_states(process_db)["pending"] == 0
