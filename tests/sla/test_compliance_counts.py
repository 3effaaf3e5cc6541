"""SLA compliance counts each handled conversation once, whatever overlaps, on SQLite and PostgreSQL;
and its statement probes no breach rows per conversation (no correlated subquery)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert
from sqlalchemy.orm import Session

from storage import Store
from storage.inline import InlineSession
from storage.migrate import upgrade
from storage.models import Contact, Conversation, ReminderSent
from storage.staged import StagingSession
from storage.stats import Stats

START = datetime(2026, 1, 5, tzinfo=UTC)
END = START + timedelta(days=1)
INSIDE = START + timedelta(hours=6)
BEFORE = START - timedelta(days=2)
AFTER = END + timedelta(hours=1)


def _conversation(number: int, contact_id: int, inbox: str = "support", **moments: Any) -> dict[str, Any]:
    return {
        "number": number,
        "inbox": inbox,
        "channel": "email",
        "contact_id": contact_id,
        "subject": f"case {number}",
        "status": "closed" if moments.get("closed_at") else "open",
        "priority": "normal",
        "created_at": BEFORE,
        "updated_at": BEFORE,
        "first_response_at": moments.get("first_response_at"),
        "closed_at": moments.get("closed_at"),
        "sla_state": "ok",
        "sla_clock": {"pauses": [], "points": []},
    }


def _reminder(conversation: int, target: str, level: str, due: datetime) -> dict[str, Any]:
    return {
        "conversation_id": conversation,
        "target": target,
        "level": level,
        "due_at": due,
        "sent_at": due,
        "late": False,
    }


async def _seed(store: Store) -> None:
    async with store.transaction() as uow:
        contact = Contact(name="Customer", created_at=BEFORE)
        uow.session.add(contact)
        await uow.session.flush()
        c = contact.id
        rows = [
            _conversation(1, c, first_response_at=INSIDE, closed_at=INSIDE),  # all three, twice breached
            _conversation(2, c, closed_at=INSIDE),  # closed, never answered, never breached
            _conversation(3, c),  # only a breach due in the period
            _conversation(4, c, first_response_at=INSIDE),  # answered now, breached earlier
            _conversation(5, c, first_response_at=BEFORE, closed_at=AFTER),  # nothing in the period
            _conversation(6, c, "sales", first_response_at=INSIDE),  # another inbox, breached
            _conversation(7, c),  # only a warning in the period
            _conversation(8, c, first_response_at=INSIDE),  # answered, never breached
        ]
        await uow.session.execute(insert(Conversation), rows)
        await uow.session.execute(
            insert(ReminderSent),
            [
                _reminder(1, "first_response", "breach", INSIDE),
                _reminder(1, "resolution@1", "breach", INSIDE + timedelta(hours=1)),
                _reminder(3, "first_response", "warning", INSIDE - timedelta(minutes=15)),
                _reminder(3, "first_response", "breach", INSIDE),
                _reminder(4, "first_response", "breach", BEFORE),
                _reminder(5, "first_response", "breach", BEFORE),
                _reminder(6, "first_response", "breach", INSIDE),
                _reminder(7, "first_response", "warning", INSIDE),
            ],
        )


async def test_each_handled_conversation_counts_once(db_url: str) -> None:
    await upgrade(db_url)
    store = Store(db_url)
    try:
        await _seed(store)
        async with store.transaction() as uow:
            support = await uow.stats.compliance(["support"], START, END)
            both = await uow.stats.compliance(["support", "sales"], START, END)
            later = await uow.stats.compliance(["support"], END, END + timedelta(days=1))
    finally:
        await store.close()
    assert support == (5, 3)  # 1, 2, 3, 4 and 8 handled; 1, 3 and 4 ever breached
    assert both == (6, 4)
    assert later == (1, 1)  # 5, closed after the period, breached long before it: ever breached


def test_no_breach_rows_are_probed_per_conversation(tmp_path: Path) -> None:
    """The planner gets no correlated subquery to run once per handled conversation."""
    path = tmp_path / "plan.db"
    import asyncio

    asyncio.run(upgrade(f"sqlite:///{path}"))
    engine = create_engine(f"sqlite:///{path}")
    statements: list[tuple[str, Any]] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _k, sql, params, *_: statements.append((sql, params))
    )
    with Session(engine) as session:
        stats = Stats(StagingSession(InlineSession(session)), "sqlite")  # type: ignore[arg-type]
        assert asyncio.run(stats.compliance(["support"], START, END)) == (0, 0)
    engine.dispose()
    sql, params = statements[-1]
    with sqlite3.connect(path) as db:
        plan = [str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert plan and not [step for step in plan if "CORRELATED" in step], plan
    assert not [step for step in plan if step.startswith("SCAN conversations")], plan
