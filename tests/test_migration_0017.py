"""Migration 0017 (card fingerprints): the ``card:<surface>:<id>`` rows of channel_cursors move to
card_fingerprints and other cursors stay; back to the revision before and up again, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage import Store
from storage.migrate import upgrade
from storage.models import Conversation
from testkit.migrations import alembic, run_sql

PREVIOUS = "0013_one_way_out"  # the revision before 0017
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def _conversation(url: str) -> int:
    store = Store(url)
    try:
        async with store.transaction() as uow:
            contact = uow.contacts.create_contact("Jane", "email", "jane@example.org", NOW)
            conversation = Conversation(
                number=await uow.counters.take_numbers(1),
                inbox="support",
                channel="email",
                contact=contact,
                subject="s",
                status="open",
                created_at=NOW,
                updated_at=NOW,
            )
            uow.add(conversation)
            await uow.flush()
            return conversation.id
    finally:
        await store.close()


async def test_card_fingerprints_move_out_of_channel_cursors_and_back(db_url: str) -> None:
    await upgrade(db_url)
    conversation_id = await _conversation(db_url)
    alembic(db_url, "downgrade", PREVIOUS)
    run_sql(
        db_url,
        "INSERT INTO channel_cursors (key, value, updated_at) VALUES"
        f" ('card:slack:{conversation_id}', 'aaaa', '2026-12-01 00:00:00'),"
        f" ('card:discord:{conversation_id}', 'bbbb', '2026-12-01 00:00:00'),"
        " ('card:slack:99999', 'cccc', '2026-12-01 00:00:00'),"  # its conversation is gone
        " ('imap:support', '7:42', '2026-12-01 00:00:00')",
    )
    await upgrade(db_url)
    moved = run_sql(
        db_url, "SELECT surface, conversation_id, fingerprint FROM card_fingerprints ORDER BY surface"
    )
    assert moved == [("discord", conversation_id, "bbbb"), ("slack", conversation_id, "aaaa")]
    assert run_sql(db_url, "SELECT key, value FROM channel_cursors") == [("imap:support", "7:42")]

    store = Store(db_url)
    try:
        async with store.transaction() as uow:  # the outbox reads what the migration moved
            assert await uow.cards.fingerprint("slack", conversation_id) == "aaaa"
            await uow.cards.save_fingerprint("slack", conversation_id, "dddd", NOW)
            assert await uow.cards.fingerprint("slack", conversation_id) == "dddd"
            assert await uow.cards.fingerprint("local", conversation_id) is None
    finally:
        await store.close()

    alembic(db_url, "downgrade", PREVIOUS)
    assert run_sql(db_url, "SELECT key, value FROM channel_cursors ORDER BY key") == [
        (f"card:discord:{conversation_id}", "bbbb"),
        (f"card:slack:{conversation_id}", "dddd"),
        ("imap:support", "7:42"),
    ]
    await upgrade(db_url)
    assert len(run_sql(db_url, "SELECT surface FROM card_fingerprints")) == 2


async def test_a_deleted_conversation_takes_its_fingerprints_with_it(db_url: str) -> None:
    await upgrade(db_url)
    conversation_id = await _conversation(db_url)
    store = Store(db_url)
    try:
        async with store.transaction() as uow:
            await uow.cards.save_fingerprint("slack", conversation_id, "aaaa", NOW)
        async with store.transaction() as uow:
            await uow.session.execute(text(f"DELETE FROM conversations WHERE id = {conversation_id}"))
        assert run_sql(db_url, "SELECT surface FROM card_fingerprints") == []
    finally:
        await store.close()
