"""Slack work is committed to the intake journal before the ack: a crash after the ack loses nothing."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.journal import JournalEntry
from testkit.slack.payloads import message_event, slash


async def _journal(world) -> dict[str, int]:
    async with world.app.store.transaction() as uow:
        return await uow.journal.counts()


async def test_an_acknowledged_note_is_in_the_journal_before_the_ack_and_is_stored_once_later(world) -> None:
    _, card = await world.new_card()
    await world.app.journal.stop()  # the worker is down, as in a process killed right after the ack
    response = await world.dispatch(message_event("refund approved", thread_ts=card["ts"], event_id="Ev0J1"))
    assert response.status == 200
    assert await _journal(world) == {"pending": 1}
    assert await world.notes() == []
    retry = await world.dispatch(message_event("refund approved", thread_ts=card["ts"], event_id="Ev0J1"))
    assert retry.status == 200  # Slack's retry of the same event is journaled once
    await world.app.journal.start()  # the restart
    await world.settle()
    assert await world.notes() == ["refund approved"]
    assert await _journal(world) == {"done": 1}


async def test_while_stopping_slack_gets_no_ack_and_retries(world) -> None:
    number, _ = await world.new_card()
    await world.app.journal.close()
    response = await world.dispatch(slash(f"claim #{number}"))
    assert response.status != 200  # no ack: Slack retries the event, the user sees the command fail
    assert await _journal(world) == {}


async def test_a_threads_claim_then_close_are_processed_in_the_order_they_were_typed(world) -> None:
    number, card = await world.new_card()
    await world.app.journal.stop()  # both arrive before the worker takes either
    for event_id, text in (("Ev0O1", "!claim"), ("Ev0O2", "!close")):
        response = await world.dispatch(message_event(text, thread_ts=card["ts"], event_id=event_id))
        assert response.status == 200
    async with world.app.store.transaction() as uow:
        rows = (await uow.session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars().all()
        assert [(r.ordering_key, json.loads(r.payload)["event"]["text"]) for r in rows] == [
            ("C_SUPPORT", "!claim"),
            ("C_SUPPORT", "!close"),
        ]
    await world.app.journal.start()
    await world.settle()
    async with world.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        assert (conversation.status, conversation.assignee_id is not None) == ("closed", True)
    assert await _journal(world) == {"done": 2}
