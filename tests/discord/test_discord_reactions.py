"""Discord: reactions as commands (MESSAGE_REACTION_ADD through discord.py), /queue and the pinned queue."""

from __future__ import annotations

import asyncio
import time

from adapters.discord.client import intents
from adapters.discord.queue_board import MARKER, PinnedQueue, QueueBoard
from testkit.discord.payloads import BOT_ID
from testkit.discord.rig import ALICE, BOB, STRANGER, DiscordRig, email_in


async def opened(h: DiscordRig) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now()))
    await h.app.dispatcher.drain()
    return h.thread_id()


async def state_of(h: DiscordRig) -> tuple[str | None, str, str]:
    async with h.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        who = (await uow.agents.agent(conversation.assignee_id)).name if conversation.assignee_id else None
        return who, str(conversation.status), conversation.priority


async def eventually(h: DiscordRig, want: tuple[str | None, str, str]) -> None:
    """Poll (generously) until the conversation is ``want``; reactions are handled in a client task."""
    deadline = time.monotonic() + 15
    while (now := await state_of(h)) != want:
        assert time.monotonic() < deadline, f"still {now}, wanted {want}"
        await asyncio.sleep(0.02)


def test_the_client_asks_for_the_reactions_intent() -> None:
    assert intents().guild_reactions and intents().value & (1 << 10)


async def test_eyes_on_the_card_claims_and_alarm_on_a_message_sets_urgent(harness: DiscordRig) -> None:
    thread = await opened(harness)
    card = harness.card(thread)
    harness.react(thread, int(card["id"]), "👀")
    await eventually(harness, ("Alice Martin", "open", "normal"))
    customer = harness.fake.posts(thread)[-1]
    harness.react(thread, int(customer["id"]), "🚨", user=BOB)
    await eventually(harness, ("Alice Martin", "open", "urgent"))
    harness.react(thread, int(customer["id"]), "✅", user=BOB)
    await eventually(harness, ("Alice Martin", "closed", "urgent"))
    await harness.app.dispatcher.drain()
    texts = [m.get("content") or "" for m in harness.fake.posts(thread)]
    assert any("claimed by Alice Martin" in t for t in texts)
    assert any("closed by Bob" in t for t in texts)


async def test_bots_strangers_removals_and_other_emoji_change_nothing(harness: DiscordRig) -> None:
    thread = await opened(harness)
    card = int(harness.card(thread)["id"])
    harness.react(thread, card, "✅", user=STRANGER)
    harness.react(thread, card, "👍")
    harness.react(thread, card, "✅", user=BOT_ID, bot=True)  # Threadline's own ✅ under a command
    harness.react(thread, card, "👀", user=ALICE)
    await eventually(harness, ("Alice Martin", "open", "normal"))
    harness.react(thread, card, "👀", user=ALICE, removed=True)
    await asyncio.sleep(0.3)
    assert await state_of(harness) == ("Alice Martin", "open", "normal")
    async with harness.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        trail = [e for e in await uow.audit.trail(conversation.id) if e.action == "reaction"]
    assert [(e.actor, e.detail["emoji"]) for e in trail] == [("Alice Martin", "👀")]


async def test_queue_is_an_ephemeral_answer(harness: DiscordRig) -> None:
    thread = await opened(harness)
    call = await harness.command("queue", thread)
    data = call.json["data"]
    assert call.json["type"] == 4 and data["flags"] & 64  # ephemeral
    assert "Mine (0)" in data["content"] and "Unassigned (1):\n#1" in data["content"]


async def test_the_pinned_queue_message_is_edited_in_place(harness: DiscordRig) -> None:
    surface = harness.app.discord
    assert surface is not None
    board = QueueBoard(
        harness.app.commands.team_queue, harness.app.queue_views.show, [str(harness.channel_id)]
    )
    thread = await opened(harness)
    await board.refresh()
    await harness.app.dispatcher.drain()  # the outbox posts and pins it
    [pinned] = harness.fake.pins[harness.channel_id]
    message = harness.fake.messages[pinned]
    assert message["content"].startswith(MARKER) and f"<#{thread}>" in message["content"]
    assert "**Unassigned (1)**" in message["content"]
    await board.refresh()  # nothing changed: no edit
    await harness.app.dispatcher.drain()
    assert "edits" not in message
    harness.react(thread, int(harness.card(thread)["id"]), "👀")
    await eventually(harness, ("Alice Martin", "open", "normal"))
    await board.refresh()
    await harness.app.dispatcher.drain()
    assert message["edits"] == 1 and "**Assigned (1)**" in message["content"]
    surface.pinned = PinnedQueue(lambda: surface.client)  # a restart: the message's id is forgotten
    await harness.app.ingestor.ingest(email_in(harness.clock.now(), subject="Another"))
    await harness.app.dispatcher.drain()
    await board.refresh()
    await harness.app.dispatcher.drain()  # finds its message among the pins, edits it
    assert harness.fake.pins[harness.channel_id] == [pinned] and message["edits"] == 2
    assert "**Unassigned (1)**" in message["content"] and "Another" in message["content"]
    posted = harness.fake.find("POST", rf"^/channels/{harness.channel_id}/messages$")
    assert len([c for c in posted if MARKER in str(c.json)]) == 1  # posted once, then only edited


async def test_a_burst_of_queue_changes_edits_the_pinned_message_once(harness: DiscordRig) -> None:
    board = QueueBoard(
        harness.app.commands.team_queue, harness.app.queue_views.show, [str(harness.channel_id)]
    )
    await opened(harness)
    await board.refresh()
    await harness.app.dispatcher.drain()
    [pinned] = harness.fake.pins[harness.channel_id]
    for n in range(3):  # three changes before the outbox runs: only the newest text goes out
        await harness.app.ingestor.ingest(email_in(harness.clock.now(), subject=f"Burst {n}"))
        await board.refresh()
    await harness.app.dispatcher.drain()
    message = harness.fake.messages[pinned]
    assert message["edits"] == 1 and "Burst 2" in message["content"]


async def test_summary_posts_the_hand_over_note_in_the_thread(harness: DiscordRig) -> None:
    thread = await opened(harness)
    call = await harness.command("summary", thread)
    assert call.json["data"]["content"] == "Hand-over summary of #1 posted in the thread."
    await harness.app.dispatcher.drain()
    shown = [str(m) for m in harness.fake.posts(thread)]
    assert any("Hand-over #1: Jane Doe <jane@example.org>" in text for text in shown)
