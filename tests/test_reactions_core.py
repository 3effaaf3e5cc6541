"""Reactions in the core on SQLite and PostgreSQL: found by card or posted item, mapped, audited once."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import ManualClock
from bot.commands import Actor, Location, ParsedCommand
from bot.commands.model import Reaction
from storage.models import AuditEvent, OutboxRow, ThreadRow
from testkit.inbound import email_in
from threadline.app import Threadline

ALICE = Actor("local", "alice", "Alice Martin")


async def test_a_reaction_on_the_card_or_a_posted_message_runs_its_command(
    any_app: Threadline, clock: ManualClock
) -> None:
    result = await any_app.ingestor.ingest(
        email_in(text="Broken desk", external_id="<r1@x>", when=clock.now())
    )
    await any_app.dispatcher.drain()
    async with any_app.store.transaction() as uow:
        thread = (await uow.session.execute(select(ThreadRow))).scalars().one()
        posted = [
            str(r.external_ref)
            for r in (await uow.session.execute(select(OutboxRow).where(OutboxRow.kind == "post"))).scalars()
        ]
    card, message = thread.card_id, posted[0].split()[-1]

    execute = any_app.commands.execute
    claimed = await execute(ALICE, ParsedCommand(Reaction("👀")), Location("local", item_id=card))
    assert claimed.ok and claimed.text == f"You claimed #{result.conversation_number}."
    urgent = await execute(ALICE, ParsedCommand(Reaction("🚨\ufe0f")), Location("local", item_id=message))
    assert urgent.ok and "priority urgent" in urgent.text
    ignored = await execute(ALICE, ParsedCommand(Reaction("🎉")), Location("local", item_id=card))
    elsewhere = await execute(
        ALICE, ParsedCommand(Reaction("✅")), Location("local", item_id="no-such-message")
    )
    assert ignored.ok and not ignored.text and elsewhere.ok and not elsewhere.text
    async with any_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(result.conversation_number or 0)
        assert (
            conversation is not None and conversation.priority == "urgent" and conversation.status == "open"
        )
        audits = (
            await uow.session.execute(select(AuditEvent).where(AuditEvent.action == "reaction"))
        ).scalars()
        assert [(a.actor, a.detail["command"]) for a in audits] == [
            ("Alice Martin", "claim"),
            ("Alice Martin", "priority urgent"),
        ]
