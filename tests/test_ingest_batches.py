"""Ingest bursts: messages submitted together share one transaction and one flush, yet each one
finds what an earlier message of the same batch staged (contact, conversation, external id).

Submitted with ``asyncio.gather``, every message is queued before the writer runs, so they form one batch.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import ColumnElement, event, func, select
from sqlalchemy.engine import Engine

from bot.clock import ManualClock
from bot.ports.inbound import InboundMessage, IngestResult
from storage.models import Base, Contact, Conversation, Message, OutboxRow
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline


async def _burst(app: Threadline, messages: list[InboundMessage]) -> list[IngestResult]:
    return list(await asyncio.gather(*(app.ingestor.ingest(m) for m in messages)))


async def _count(app: Threadline, what: type[Base], *where: ColumnElement[bool]) -> int:
    async with app.store.transaction() as uow:
        stmt = select(func.count()).select_from(what).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_a_burst_threads_deduplicates_and_numbers_within_itself(
    any_app: Threadline, clock: ManualClock
) -> None:
    now = clock.now()
    first = email_in("alice@example.org", "Broken zip", external_id="<a1@x>", when=now)
    results = await _burst(
        any_app,
        [
            first,
            email_in("alice@example.org", "Re: Broken zip", thread_refs=("<a1@x>",), when=now),
            first,  # the same message twice in one burst (a redelivery)
            email_in("ALICE@example.org", "Re: [#1]", conversation_hint=1, when=now),
            email_in("bob@example.org", "[#1] not mine", conversation_hint=1, when=now),
            email_in("carol@example.org", "Hello", when=now),
        ],
    )
    assert [r.conversation_number for r in results] == [1, 1, None, 1, 2, 3]
    assert [r.created_conversation for r in results] == [True, False, False, False, True, True]
    assert results[2].duplicate
    assert await _count(any_app, Contact) == 3  # alice once, though she is new and wrote three times
    assert await _count(any_app, Message, Message.external_id == "<a1@x>") == 1
    later = await any_app.ingestor.ingest(email_in("dave@example.org", "Later", when=now))
    assert later.conversation_number == 4  # the burst gave back the numbers it reserved and did not use


async def test_a_whatsapp_burst_continues_the_conversation_it_opened(
    any_app: Threadline, clock: ManualClock
) -> None:
    now = clock.now()
    results = await _burst(
        any_app,
        [
            whatsapp_in("+31 6 1111 1111", "Hi", when=now),
            whatsapp_in("+31 6 2222 2222", "Hello", when=now),
            whatsapp_in("+31611111111", "my order is late", when=now),
            whatsapp_in("+31 6 1111 1111", "order 1881", when=now),
        ],
    )
    assert [r.conversation_number for r in results] == [1, 2, 1, 1]
    async with any_app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        texts = [m.text for m in await uow.messages.messages_of(conv.id, kinds=["inbound"])]
    assert texts == ["Hi", "my order is late", "order 1881"]


async def test_a_burst_on_an_existing_conversation_refreshes_its_card_once(
    any_app: Threadline, clock: ManualClock
) -> None:
    opened = await any_app.ingestor.ingest(email_in(external_id="<root@x>", when=clock.now()))
    number = opened.conversation_number
    await _burst(
        any_app,
        [email_in(thread_refs=("<root@x>",), text=f"follow-up {n}", when=clock.now()) for n in range(3)],
    )
    async with any_app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(number or 0)
        assert conv is not None
        conversation_id = conv.id
    assert (
        await _count(any_app, Message, Message.conversation_id == conversation_id, Message.kind == "inbound")
        == 4
    )
    card_rows = await _count(
        any_app, OutboxRow, OutboxRow.conversation_id == conversation_id, OutboxRow.kind == "card"
    )
    assert card_rows == 1  # three messages in one transaction: one card refresh
    assert await _count(any_app, Conversation) == 1


async def test_a_message_reads_stored_ids_and_thread_references_in_one_query(
    any_app: Threadline, clock: ManualClock
) -> None:
    await any_app.ingestor.ingest(email_in(external_id="<first@x>", when=clock.now()))
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        # a new sender answering a message we never had: a new conversation
        result = await any_app.ingestor.ingest(
            email_in("erin@example.org", "Hello", thread_refs=("<unknown@x>",), when=clock.now())
        )
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.created_conversation
    reads = [s for s in statements if s.startswith("SELECT") and " FROM messages " in s]
    assert len(reads) == 1  # stored external ids and thread references together
    assert await _count(any_app, OutboxRow, OutboxRow.conversation_id.is_not(None)) == 2
