"""Messages typed in Discord: ``!`` commands and plain notes in conversation threads, and what is ignored."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord

from testkit.discord.fake import GUILD_ID
from testkit.discord.payloads import message_fields
from testkit.discord.rig import ALICE, STRANGER, DiscordRig, email_in, member

if TYPE_CHECKING:
    from discord.types.channel import TextChannel as TextChannelPayload
    from discord.types.message import Message as MessagePayload


async def opened(h: DiscordRig) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now()))
    await h.app.dispatcher.drain()
    return h.thread_id()


async def test_prefix_commands_and_plain_notes_in_the_thread(harness: DiscordRig) -> None:
    thread = await opened(harness)
    assert harness.app.discord is not None
    bridge = harness.app.discord.bridge

    def message(text: str, user: int = ALICE, bot: bool = False) -> discord.Message:
        return harness.member_message(thread, text, user, bot=bot)

    claim = message("!claim")
    claimed = await bridge.on_message(claim)
    assert claimed is not None and claimed.text == "You claimed #1."
    assert (thread, claim.id, "✅") in harness.fake.reactions
    note = message("the customer called too")
    noted = await bridge.on_message(note)
    assert noted is not None and noted.text == "Note added."
    await harness.app.dispatcher.drain()
    echoed = [
        m
        for m in harness.fake.posts(thread)
        if m["embeds"] and "note by" in m["embeds"][0].get("author", {}).get("name", "")
    ]
    assert echoed == []  # typed in the thread already: not posted twice
    assert await bridge.on_message(message("!claim", bot=True)) is None
    stranger = message("!close", user=STRANGER)
    assert isinstance(stranger.author, discord.Member)
    stranger.author._roles = discord.utils.SnowflakeList([])
    assert await bridge.on_message(stranger) is None
    refusal = harness.fake.find("POST", rf"^/channels/{thread}/messages$")[-1].json
    assert refusal["content"].startswith("✗ Only members") and refusal["allowed_mentions"]["parse"] == []


async def test_messages_outside_inbox_channels_are_ignored(harness: DiscordRig) -> None:
    await opened(harness)
    other = harness.fake.add_text_channel("random")
    state = harness.state
    guild = state._get_or_create_unavailable_guild(GUILD_ID)
    payload = cast("TextChannelPayload", harness.fake.channels[other])
    channel = discord.TextChannel(guild=guild, state=state, data=payload)
    author = member(ALICE)
    data = message_fields(
        id=str(harness.fake.snowflake()),
        channel_id=str(other),
        author=author["user"],
        member={k: v for k, v in author.items() if k != "user"},
        content="!list",
    )
    assert harness.app.discord is not None
    bridge = harness.app.discord.bridge
    before = len(harness.fake.calls)
    message = discord.Message(state=state, channel=channel, data=cast("MessagePayload", data))
    assert await bridge.on_message(message) is None
    assert len(harness.fake.calls) == before
