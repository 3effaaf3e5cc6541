"""Read what a running (or killed) instance left in the database, from the test process."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from storage.db import sync_url


@dataclass
class Snapshot:
    """The rows the assertions look at."""

    inbound: list[tuple[str, int]]  # (Message-ID, conversation id)
    outbound: list[tuple[int, str | None, str | None]]  # (message id, external id, delivery status)
    threads: Counter[int]  # conversation id -> thread rows
    pending_outbox: int
    failed_outbox: int
    audit: Counter[tuple[int, str]]  # (conversation id, action) -> count
    conversations: int


def snapshot(url: str) -> Snapshot:
    """One consistent look at the database."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            inbound = [
                (str(r[0]), int(r[1]))
                for r in db.execute(
                    text("SELECT external_id, conversation_id FROM messages WHERE kind = 'inbound'")
                )
            ]
            outbound = [
                (int(r[0]), r[1], r[2])
                for r in db.execute(
                    text("SELECT id, external_id, delivery_status FROM messages WHERE kind = 'outbound'")
                )
            ]
            threads = Counter(int(r[0]) for r in db.execute(text("SELECT conversation_id FROM threads")))
            pending = db.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one()
            failed = db.execute(text("SELECT count(*) FROM outbox WHERE status = 'failed'")).scalar_one()
            audit = Counter(
                (int(r[0] or 0), str(r[1]))
                for r in db.execute(text("SELECT conversation_id, action FROM audit_events"))
            )
            conversations = db.execute(text("SELECT count(*) FROM conversations")).scalar_one()
    finally:
        engine.dispose()
    return Snapshot(inbound, outbound, threads, int(pending), int(failed), audit, int(conversations))


def safe_snapshot(url: str) -> Snapshot | None:
    """A snapshot, or None while the database is busy or unreachable (polling helpers)."""
    try:
        return snapshot(url)
    except Exception:
        return None


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of ``sql`` (empty while the database is busy)."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as db:
            return [tuple(row) for row in db.execute(text(sql))]
    except Exception:
        return []
    finally:
        engine.dispose()
