"""Rules firing on every message of one ingest batch: each conversation gets what it would get alone
(labels, turns, caps, auto-replies), and the batch is still written with one INSERT per table."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.automation import automation_settings, sent_mail
from testkit.inbound import email_in
from threadline.app import Threadline

RULES = """
[teams.pair]
members = ["carol", "dan"]
max_open_per_agent = 2

[[rules]]
name = "pair"
sender_domain = ["example.net"]
assign = "team:pair"
add_labels = ["auto", "Auto", "new"]
priority = "high"

[[rules]]
name = "again"
sender_domain = ["example.net"]
add_labels = ["auto", "second"]

[[rules]]
name = "ack"
subject_contains = ["question"]
auto_reply = "ack"
"""


@pytest.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Threadline]:
    settings = automation_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", RULES)
    application = await started_app(settings, clock)
    yield application
    await application.stop()


async def test_one_batch_of_firing_rules(app: Threadline, clock: ManualClock, tmp_path: Path) -> None:
    # labels and the team's turn exist from an earlier conversation, as they would after the first day
    first = await app.ingestor.ingest(email_in(sender="c@example.net", subject="Hello", when=clock.now()))
    assert app.local is not None
    assert (await app.local.type_line(f"!close #{first.conversation_number}", "carol")).ok
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements[" ".join(sql.split()[:3])] += 1

    engine = app.store._sync_engine
    assert engine is not None
    event.listen(engine, "before_cursor_execute", count)
    messages = [
        email_in(sender=f"c{n}@example.net", subject=f"A question {n}", when=clock.now()) for n in range(6)
    ]
    results = await asyncio.gather(*(app.ingestor.ingest(m) for m in messages))
    event.remove(engine, "before_cursor_execute", count)
    await app.dispatcher.drain()
    cards = [app.local.thread(r.conversation_number or 0) for r in results]
    assert all(c is not None for c in cards)
    assignees = [c.card.assignee for c in cards if c is not None]
    # round robin within the batch, and the cap of 2 open each read once and kept current
    assert assignees == ["Dan Okafor", "Carol Reyes", "Dan Okafor", "Carol Reyes", None, None]
    for thread in cards:
        assert thread is not None
        assert thread.card.labels == ("auto", "new", "second")  # "Auto" is "auto"; each given once
        assert thread.card.priority == "high"
        assert thread.texts("outbound")[0].startswith("Hi Jane, we got your message about")
    assert sum("nobody in team pair is available" in t for c in cards if c for t in c.texts("notice")) == 2
    assert len(sent_mail(tmp_path / "out")) == 6
    # one batch: every table written with one INSERT, no flush per firing rule
    for table in ("contacts", "contact_identities", "conversations", "messages", "conversation_labels"):
        assert statements[f"INSERT INTO {table}"] == 1, (table, statements)
    assert sum(statements.values()) <= 20, statements
