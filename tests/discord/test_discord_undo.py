"""The undo window on Discord: the Undo button, and MESSAGE_UPDATE / MESSAGE_DELETE of agents' messages.

Edits and deletions are fed through discord.py's own gateway parsers
(``ConnectionState.parse_message_update`` / ``parse_message_delete``) in the shapes Discord
documents: MESSAGE_UPDATE carries the whole message as it is now, MESSAGE_DELETE only
``id``, ``channel_id`` and ``guild_id``
(https://discord.com/developers/docs/topics/gateway-events#message-update,
https://discord.com/developers/docs/topics/gateway-events#message-delete).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import DiscordRig, build_app, component, email_in
from testkit.waiting import until


@pytest.fixture
async def held(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[DiscordRig]:
    """The Discord harness with a 10 s undo window."""
    from bot.clock import ManualClock

    clock = ManualClock()
    channel = fake.add_text_channel("support")
    app, sender = build_app(fake, tmp_path, clock, channel, undo=10)
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    yield DiscordRig.around(app, clock, fake, sender, channel)
    await app.stop()


async def _conversation(h: DiscordRig) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now(), text="Cancel my order please"))
    await h.app.dispatcher.drain()
    return h.thread_id()


async def _typed(h: DiscordRig, thread: int, text: str) -> dict:
    message = h.member_message(thread, text)
    assert h.app.discord is not None
    await h.app.discord.bridge.on_message(message)
    await h.app.dispatcher.drain()
    return h.fake.messages[message.id]


def _edit(h: DiscordRig, typed: dict, text: str) -> None:
    h.state.parse_message_update({**typed, "content": text, "edited_timestamp": "2026-01-05T09:00:05+00:00"})


async def test_undo_button_on_the_notice_keeps_the_reply_from_the_customer(held: DiscordRig) -> None:
    thread = await _conversation(held)
    await _typed(held, thread, "!reply Cancelled.")
    notice = next(m for m in held.fake.posts(thread) if "sending in 10 s" in (m.get("content") or ""))
    button = notice["components"][0]["components"][0]
    assert button["custom_id"] == "tl:undo:1" and button["label"] == "Undo"
    answer = await held.interact(component(held, notice, "tl:undo:1", 2))
    assert "did not get it" in answer.json["data"]["content"]
    held.clock.advance(timedelta(seconds=60))
    await held.app.dispatcher.drain()
    assert held.sender.sent == []
    assert any("Reply undone by Alice Martin" in (m.get("content") or "") for m in held.fake.posts(thread))


async def test_an_edited_reply_within_the_window_sends_the_edited_text(held: DiscordRig) -> None:
    thread = await _conversation(held)
    typed = await _typed(held, thread, "!reply Refund: €50")
    _edit(held, typed, "!reply Refund: €55")

    async def edited() -> bool:
        async with held.app.store.transaction() as uow:
            return [m.text for m in await uow.messages.messages_of(1, ["outbound"])] == ["Refund: €55"]

    done = False

    async def check() -> None:
        nonlocal done
        done = await edited()

    await until("the reply was edited", lambda: done, between=check)
    held.clock.advance(timedelta(seconds=11))
    await held.app.dispatcher.drain()
    await held.app.dispatcher.drain()
    assert [m.text for m in held.sender.sent] == ["Refund: €55"]


async def test_deleted_note_is_deleted_in_storage(held: DiscordRig) -> None:
    thread = await _conversation(held)
    typed = await _typed(held, thread, "customer sounds upset")
    held.state.parse_message_delete(
        {"id": typed["id"], "channel_id": typed["channel_id"], "guild_id": typed["guild_id"]}
    )
    notes: list[str] | None = None

    async def check() -> None:
        nonlocal notes
        async with held.app.store.transaction() as uow:
            notes = [m.text for m in await uow.messages.messages_of(1, ["note"])]

    await until("the note was deleted", lambda: notes == [], between=check)
