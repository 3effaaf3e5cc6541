"""Migration 0015 (messages.chat_ref): upgrade, back to 0010 and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from storage.db import sync_url
from storage.migrate import upgrade
from testkit.migrations import alembic


def _messages(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(sync_url(url))
    try:
        found = inspect(engine)
        columns = {str(c["name"]) for c in found.get_columns("messages")}
        return columns, {str(i["name"]) for i in found.get_indexes("messages")}
    finally:
        engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    await upgrade(db_url)
    columns, indexes = _messages(db_url)
    assert "chat_ref" in columns and "ix_messages_chat_ref" in indexes
    alembic(db_url, "downgrade", "0010_compliance_indexes")
    columns, indexes = _messages(db_url)
    assert "chat_ref" not in columns and "ix_messages_chat_ref" not in indexes
    assert "ix_messages_conversation" in indexes
    await upgrade(db_url)
    assert "chat_ref" in _messages(db_url)[0]
