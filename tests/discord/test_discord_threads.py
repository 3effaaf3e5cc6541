"""Closed (archived) threads and forum tags, as Discord enforces them in the strict fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from storage.models import OutboxRow
from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import DiscordRig, build_app, component, email_in, slash


async def closed(h: DiscordRig) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now()))
    await h.app.dispatcher.drain()
    thread = h.thread_id()
    assert h.fake.responses == {}
    await h.command("close", thread)
    await h.app.dispatcher.drain()
    assert h.fake.archived(thread)  # archive_on_close
    return thread


async def status(h: DiscordRig) -> str:
    async with h.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        return conversation.status


def card_status(h: DiscordRig, thread: int) -> str:
    fields = {f["name"]: f["value"] for f in h.card(thread)["embeds"][0]["fields"]}
    return fields["Status"]


async def test_the_reopen_button_works_on_a_closed_archived_thread(harness: DiscordRig) -> None:
    thread = await closed(harness)
    call = await harness.interact(component(harness, harness.card(thread), "tl:reopen:1", 2))
    assert call.json["data"]["content"] == "#1 reopened."  # answered, not refused as archived
    await harness.app.dispatcher.drain()
    assert await status(harness) == "open" and not harness.fake.archived(thread)
    assert card_status(harness, thread) == "open"


async def test_reopen_typed_in_a_closed_archived_thread_works(harness: DiscordRig) -> None:
    thread = await closed(harness)
    assert harness.app.discord is not None
    bridge = harness.app.discord.bridge
    message = harness.member_message(thread, "!reopen")  # Discord unarchives the thread for it
    reply = await bridge.on_message(message)
    assert reply is not None and reply.ok
    assert (thread, message.id, "✅") in harness.fake.reactions
    await harness.app.dispatcher.drain()
    assert card_status(harness, thread) == "open"


async def test_slash_commands_are_not_offered_in_an_archived_thread(harness: DiscordRig) -> None:
    thread = await closed(harness)
    with pytest.raises(AssertionError, match="no application commands"):
        slash(harness, "reopen", {}, channel_id=thread)


async def forum_app(fake: FakeDiscord, tmp_path: Path, extra: str = "") -> Any:
    forum = fake.add_forum_channel("inbox", tags=("support", "refund"), require_tag=True)
    clock = ManualClock()
    app, _ = build_app(fake, tmp_path, clock, forum, extra=extra)
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    await app.ingestor.ingest(email_in(clock.now()))
    await app.dispatcher.drain()
    return app, forum


async def test_a_forum_that_requires_tags_gets_the_default_tag(fake: FakeDiscord, tmp_path: Path) -> None:
    app, forum = await forum_app(fake, tmp_path, 'default_forum_tag = "Support"')
    try:
        (thread,) = fake.threads()
        assert thread["applied_tags"] == [fake.tag_id(forum, "support")]
        assert fake.posts(int(thread["id"]))[0]["embeds"][0]["title"].startswith("#1 ")
    finally:
        await app.stop()


async def test_a_forum_that_requires_tags_without_a_default_says_how_to_fix_it(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    app, _ = await forum_app(fake, tmp_path)
    try:
        assert fake.threads() == []
        async with app.store.transaction() as uow:
            rows = list((await uow.session.execute(select(OutboxRow))).scalars())
        failed = [r.last_error or "" for r in rows if r.status == "failed"]
        assert failed and all("requires a tag" in e and "default_forum_tag" in e for e in failed)
    finally:
        await app.stop()
