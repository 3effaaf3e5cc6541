"""Migration 0013 (one way out): pending redactions move into the outbox and back (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.clock import ManualClock
from storage.db import sync_url
from storage.migrate import upgrade
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.migrations import alembic, tables
from testkit.settings import make_settings


def _rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


async def test_pending_redactions_become_outbox_rows_and_back(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await upgrade(db_url)
    app = await started_app(make_settings(db_url, tmp_path / "out"), clock)
    await app.ingestor.ingest(email_in(when=clock.now()))
    await app.dispatcher.drain()
    await app.stop()
    ((conversation_id, surface, chat_channel, thread_id),) = _rows(
        db_url, "SELECT conversation_id, surface, chat_channel, thread_id FROM threads"
    )

    alembic(db_url, "downgrade", "0010_compliance_indexes")
    assert "redactions" in tables(db_url)
    for item, status in (("post-1", "pending"), ("post-2", "done")):
        _rows(
            db_url,
            "INSERT INTO redactions (surface, chat_channel, thread_id, item_id, status, attempts, created_at)"
            " VALUES (:surface, :chat, :thread, :item, :status, 1, :at)",
            surface=surface,
            chat=chat_channel,
            thread=thread_id,
            item=item,
            status=status,
            at=clock.now().replace(tzinfo=None),
        )

    await upgrade(db_url)
    assert "redactions" not in tables(db_url)
    moved = _rows(
        db_url,
        "SELECT conversation_id, destination, payload, status, attempts FROM outbox WHERE kind = 'redact'",
    )
    assert len(moved) == 1  # the pending one; the done one needs nothing more
    row = moved[0]
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
    assert (row.conversation_id, row.destination, row.status, row.attempts) == (
        conversation_id,
        f"surface:{surface}",
        "pending",
        1,
    )
    assert payload == {"chat_channel": chat_channel, "thread_id": thread_id, "item_id": "post-1"}

    alembic(db_url, "downgrade", "0010_compliance_indexes")
    assert _rows(db_url, "SELECT item_id, status FROM redactions") == [("post-1", "pending")]
    assert _rows(db_url, "SELECT id FROM outbox WHERE kind = 'redact'") == []
    await upgrade(db_url)  # and forward again
    assert len(_rows(db_url, "SELECT id FROM outbox WHERE kind = 'redact'")) == 1
