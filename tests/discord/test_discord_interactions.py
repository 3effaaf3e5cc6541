"""Interactions through discord.py's own dispatch: slash commands, autocomplete, card components, messages.

Each payload is handed to ``ConnectionState.parse_interaction_create`` exactly as the
gateway's INTERACTION_CREATE would be; what we assert is the response the fake Discord
received (ephemeral flag 64, text, mentions disabled) and the resulting state.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord

from bot.actions import Actor, Location
from bot.clock import ManualClock
from bot.views import Reply
from tests.discord.discord_fake import GUILD_ID, FakeDiscord
from tests.discord.discord_harness import (
    AGENT_ROLE,
    ALICE,
    BOB,
    STRANGER,
    Harness,
    build_app,
    component,
    email_in,
    member,
    slash,
)

EPHEMERAL = 64


async def opened(h: Harness) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now()))
    await h.app.dispatcher.drain()
    return h.thread_id()


def answer(call: Any) -> str:
    assert call.json["type"] == 4, call.json
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == {"parse": []}
    return str(data["content"])


async def assignee_and_labels(h: Harness) -> tuple[str | None, list[str]]:
    async with h.app.store.transaction() as repo:
        conversation = await repo.conversation_by_number(1)
        assert conversation is not None
        who = (await repo.agent(conversation.assignee_id)).name if conversation.assignee_id else None
        return who, await repo.labels_of(conversation.id)


async def test_claim_answers_ephemerally_and_claims(harness: Harness) -> None:
    thread = await opened(harness)
    assert answer(await harness.command("claim", thread)) == "You claimed #1."
    assert (await assignee_and_labels(harness))[0] == "Alice Martin"
    assert answer(await harness.command("claim", thread, user=BOB)).startswith(
        "✗ #1 is claimed by Alice Martin"
    )


async def test_members_without_the_agent_role_are_refused(harness: Harness) -> None:
    thread = await opened(harness)
    text = answer(await harness.command("claim", thread, user=STRANGER))
    assert text == "Only members with the configured agent role can work conversations."
    assert (await assignee_and_labels(harness))[0] is None


async def test_commands_outside_a_conversation_thread_say_where_to_use_them(harness: Harness) -> None:
    await opened(harness)
    text = answer(await harness.command("claim", None))
    assert text == "✗ Use this inside a conversation thread, or name one: #42."
    listing = answer(
        await harness.interact(slash(harness, "list", {"which": "open"}, channel_id=None, group="inbox"))
    )
    assert "#1 · open · email" in listing


async def test_assign_label_note_snooze_close_reopen(harness: Harness) -> None:
    thread = await opened(harness)
    assert answer(await harness.command("assign", thread, member=BOB)) == "#1 assigned to Bob Stone."
    assert answer(await harness.command("label", thread, add="refund, vip")) == "#1: labels +refund +vip."
    assert answer(await harness.command("label", thread, remove="vip")) == "#1: labels -vip."
    assert answer(await harness.command("note", thread, text="checked the order")) == "Note added."
    assert answer(await harness.command("snooze", thread, until="2h")).startswith("#1 snoozed until ")
    assert answer(await harness.command("close", thread)) == "#1 closed."
    assert answer(await harness.command("reopen", thread)) == "#1 reopened."
    assert await assignee_and_labels(harness) == ("Bob Stone", ["refund"])
    await harness.app.dispatcher.drain()
    notes = [
        m
        for m in harness.fake.posts(thread)
        if m["embeds"] and "note by" in m["embeds"][0].get("author", {}).get("name", "")
    ]
    assert [n["embeds"][0]["description"] for n in notes] == ["checked the order"]


async def test_label_autocomplete_offers_existing_labels(harness: Harness) -> None:
    thread = await opened(harness)
    await harness.command("label", thread, add="refund billing")
    call = await harness.interact(slash(harness, "label", {"add": "re"}, channel_id=thread, focused="add"))
    assert call.json["type"] == 8
    assert [c["value"] for c in call.json["data"]["choices"]] == ["re", "refund"]
    call = await harness.interact(
        slash(harness, "label", {"remove": ""}, channel_id=thread, focused="remove")
    )
    assert sorted(c["value"] for c in call.json["data"]["choices"]) == ["billing", "refund"]


async def test_card_buttons_and_selects_work_from_the_message_alone(harness: Harness) -> None:
    """Dynamic items: no view is kept in memory per card, the custom_id carries the number (restart-proof)."""
    thread = await opened(harness)
    await harness.command("label", thread, add="billing")
    await harness.app.dispatcher.drain()
    card = harness.card(thread)
    assert answer(await harness.interact(component(harness, card, "tl:claim:1", 2))) == "You claimed #1."
    picked = await harness.interact(component(harness, card, "tl:assign:1", 5, [str(BOB)]))
    assert answer(picked) == "#1 assigned to Bob Stone."
    await harness.app.dispatcher.drain()
    card = harness.card(thread)
    labels = await harness.interact(component(harness, card, "tl:labels:1", 3, []))
    assert answer(labels) == "#1: labels -billing."
    snooze = await harness.interact(component(harness, card, "tl:snooze:1", 3, ["tomorrow 9:00"]))
    assert answer(snooze).startswith("#1 snoozed until ")
    closing = await harness.interact(component(harness, card, "tl:close:1", 2))
    assert answer(closing) == "#1 closed."


async def test_slow_commands_are_deferred_then_answered_by_follow_up(harness: Harness) -> None:
    thread = await opened(harness)
    bridge = harness.app.discord.bridge  # type: ignore[union-attr]
    bridge.settings = bridge.settings.model_copy(update={"defer_after_seconds": 0.01})
    release = asyncio.Event()
    real = bridge.commands

    class Slow:
        async def handle(self, actor: Actor, text: str, where: Location, *, prefixed: bool = True) -> Reply:
            await release.wait()
            return await real.handle(actor, text, where, prefixed=prefixed)

    bridge.commands = Slow()
    payload = slash(harness, "claim", {}, channel_id=thread)
    first = await harness.interact(payload)
    assert first.json["type"] == 5 and first.json["data"]["flags"] & EPHEMERAL  # deferred, "thinking"
    release.set()
    followups = await harness.fake.wait_for("POST", rf"^/webhooks/\d+/{payload['token']}")
    assert followups[0].json["content"] == "You claimed #1." and followups[0].json["flags"] & EPHEMERAL


async def test_prefix_commands_and_plain_notes_in_the_thread(harness: Harness) -> None:
    thread = await opened(harness)
    state = harness.state
    channel = discord.Thread(
        guild=state._get_or_create_unavailable_guild(int(harness.fake.channels[thread]["guild_id"])),
        state=state,
        data=harness.fake.thread_payload(thread),
    )
    bridge = harness.app.discord.bridge  # type: ignore[union-attr]

    def message(text: str, user: int = ALICE, bot: bool = False) -> discord.Message:
        author = member(user)
        data = {
            "id": str(harness.fake.snowflake()),
            "channel_id": str(thread),
            "guild_id": channel.guild.id,
            "author": {**author["user"], "bot": bot},
            "member": {k: v for k, v in author.items() if k != "user"},
            "content": text,
            "type": 0,
            "attachments": [],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "tts": False,
            "timestamp": "2026-01-05T09:00:00+00:00",
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
            "mention_everyone": False,
        }
        return discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]

    claim = message("!claim")
    assert (await bridge.on_message(claim)).text == "You claimed #1."
    assert (thread, claim.id, "✅") in harness.fake.reactions
    note = message("the customer called too")
    assert (await bridge.on_message(note)).text == "Note added."
    await harness.app.dispatcher.drain()
    echoed = [
        m
        for m in harness.fake.posts(thread)
        if m["embeds"] and "note by" in m["embeds"][0].get("author", {}).get("name", "")
    ]
    assert echoed == []  # typed in the thread already: not posted twice
    assert await bridge.on_message(message("!claim", bot=True)) is None
    stranger = message("!close", user=STRANGER)
    stranger.author._roles = discord.utils.SnowflakeList([])  # type: ignore[union-attr]
    assert await bridge.on_message(stranger) is None
    refusal = harness.fake.find("POST", rf"^/channels/{thread}/messages$")[-1].json
    assert refusal["content"].startswith("✗ Only members") and refusal["allowed_mentions"]["parse"] == []


async def test_agent_role_may_be_given_by_name(fake: FakeDiscord, tmp_path: Path) -> None:
    fake.roles = [
        {
            "id": str(role),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": 1,
            "permissions": "0",
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        for role, name in ((AGENT_ROLE, "Support"), (AGENT_ROLE + 1, "Sales"))
    ]
    clock = ManualClock()
    channel = fake.add_text_channel()
    app, sender = build_app(fake, tmp_path, clock, channel, role="Support")
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    try:
        h = Harness(app, fake, sender, channel, clock)
        thread = await opened(h)
        assert answer(await h.command("claim", thread)) == "You claimed #1."
        refused = answer(await h.command("unassign", thread, user=STRANGER))
        assert refused == "Only members with the Support role can work conversations."
    finally:
        await app.stop()


async def test_messages_outside_inbox_channels_are_ignored(harness: Harness) -> None:
    await opened(harness)
    other = harness.fake.add_text_channel("random")
    state = harness.state
    guild = state._get_or_create_unavailable_guild(GUILD_ID)
    channel = discord.TextChannel(guild=guild, state=state, data=harness.fake.channels[other])
    author = member(ALICE)
    data = {
        "id": str(harness.fake.snowflake()),
        "channel_id": str(other),
        "author": author["user"],
        "member": {k: v for k, v in author.items() if k != "user"},
        "content": "!list",
        "type": 0,
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "tts": False,
        "timestamp": "2026-01-05T09:00:00+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
        "mention_everyone": False,
    }
    bridge = harness.app.discord.bridge  # type: ignore[union-attr]
    before = len(harness.fake.calls)
    assert await bridge.on_message(discord.Message(state=state, channel=channel, data=data)) is None
    assert len(harness.fake.calls) == before
