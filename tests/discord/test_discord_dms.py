"""Discord DMs to the bot (the Modmail model), end to end through the fake Discord and discord.py's parser.

A user's DM (MESSAGE_CREATE without guild_id) opens a conversation in the DM inbox; the team
works it in the staff thread; ``reply`` answers in the DM; the intake rules leave out
pleasantries that would open a conversation and opted-out messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import discord
import pytest
from sqlalchemy import select

from adapters.discord.client import ThreadlineClient
from bot.clock import ManualClock
from storage.models import CsatRating
from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import DiscordRig, build_app
from testkit.waiting import until

USER = 610000000000000001


@asynccontextmanager
async def _dm_rig(fake: FakeDiscord, tmp_path: Path, settings: str = "") -> AsyncIterator[DiscordRig]:
    """The Discord harness with DMs to the bot feeding inbox ``dms`` (threads in the support channel);
    ``settings``: more ``[surfaces.discord]`` lines."""
    clock = ManualClock()
    channel = fake.add_text_channel("support")
    extra = (
        f'{settings}dm_inbox = "dms"\n\n[inboxes.dms]\nname = "Discord DMs"\nchannel = "discord"\n'
        f'address = "bot"\nsurface = "discord"\nchat_channel = "{channel}"\n'
    )
    app, sender = build_app(fake, tmp_path, clock, channel, extra=extra)
    await app.prepare_database()
    await app.sync_agents()
    await app.journal.start()  # each DM is journaled on receipt, then taken in from the journal
    assert app.discord is not None
    await app.discord.login()
    try:
        yield DiscordRig.around(app, clock, fake, sender, channel)
    finally:
        await app.stop()


@pytest.fixture
async def dm(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[DiscordRig]:
    """The Discord harness with DMs to the bot, default settings."""
    async with _dm_rig(fake, tmp_path) as rig:
        yield rig


async def _conversations(h: DiscordRig) -> list[tuple[int, str, str]]:
    async with h.app.store.transaction() as uow:
        found = []
        for number in range(1, 10):
            conv = await uow.conversations.conversation_by_number(number)
            if conv is not None:
                texts = [m.text for m in await uow.messages.messages_of(conv.id, ["inbound"])]
                found.append((number, conv.status, " | ".join(texts)))
        return found


async def _wait_conversations(h: DiscordRig, count: int) -> list[tuple[int, str, str]]:
    seen: list[tuple[int, str, str]] = []

    async def look() -> None:
        nonlocal seen
        await h.app.dispatcher.drain()
        seen = await _conversations(h)

    await until(f"{count} conversation(s)", lambda: len(seen) >= count, between=look)
    return seen


def _dm(h: DiscordRig, text: str, attachments: list[dict] | None = None) -> None:
    """The user sends the bot a DM (the gateway's MESSAGE_CREATE, parsed by discord.py)."""
    h.state.parse_message_create(h.fake.dms.user_message(USER, "sofia", text, attachments))


async def _settled(h: DiscordRig, what: str, check) -> list[tuple[int, str, str]]:
    """Drain the outbox until ``check(conversations)`` holds (discord.py handles a DM in a task)."""
    seen: list[tuple[int, str, str]] = []

    async def look() -> None:
        nonlocal seen
        await h.app.dispatcher.drain()
        seen = await _conversations(h)

    await until(what, lambda: check(seen), between=look)
    return seen


async def test_a_dm_opens_a_conversation_and_the_reply_goes_back_as_a_dm(dm: DiscordRig) -> None:
    receipt = dm.fake.dms.attachment("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf")
    _dm(dm, "My order never arrived", [receipt])
    seen = await _settled(dm, "a conversation", lambda c: len(c) == 1)
    assert seen == [(1, "open", "My order never arrived")]
    await dm.app.dispatcher.drain()
    thread = dm.thread_id()
    customer = dm.fake.posts(thread)[1]
    assert customer["embeds"][0]["author"]["name"] == "sofia (customer)"
    assert customer["embeds"][0]["description"] == "My order never arrived"
    async with dm.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None and conv.channel == "discord" and conv.inbox == "dms"
        inbound = (await uow.messages.messages_of(conv.id, ["inbound"]))[0]
        files = await uow.messages.attachments_of(inbound.id)
    assert [(f.filename, f.data) for f in files] == [("receipt.pdf", b"%PDF-1.4 receipt")]

    assert dm.app.discord is not None
    await dm.app.discord.bridge.on_message(dm.member_message(thread, "!reply Sorry! A new one ships today."))
    await dm.app.dispatcher.drain()
    await dm.app.dispatcher.drain()
    channel = dm.fake.dms.channel_of(USER)
    assert [m["content"] for m in dm.fake.posts(channel)] == ["Sorry! A new one ships today."]
    assert dm.fake.posts(channel)[0]["allowed_mentions"] == {"parse": []}

    label = dm.fake.dms.attachment("label.png", b"\x89PNG label", "image/png")
    typed = dm.member_message(thread, "!reply Here is the return label.")
    typed.attachments = [discord.Attachment(data=label, state=dm.state)]  # type: ignore[arg-type]
    await dm.app.discord.bridge.on_message(typed)
    await dm.app.dispatcher.drain()
    await dm.app.dispatcher.drain()
    with_file = dm.fake.posts(channel)[-1]
    assert with_file["content"] == "Here is the return label."
    assert [a["filename"] for a in with_file["attachments"]] == ["label.png"]

    _dm(dm, "it is a blue desk")
    seen = await _settled(dm, "the follow-up in the same conversation", lambda c: "blue" in str(c))
    assert seen == [(1, "open", "My order never arrived | it is a blue desk")]


async def test_intake_rules_leave_out_pleasantries_and_opted_out_messages(dm: DiscordRig) -> None:
    _dm(dm, "👍")  # emoji only: opens nothing
    _dm(dm, "Thanks!")
    _dm(dm, "(no ticket) just saying hi to the team")
    _dm(dm, "Can I change my delivery address?")
    seen = await _settled(dm, "one conversation", lambda c: len(c) == 1)
    assert seen == [(1, "open", "Can I change my delivery address?")]
    _dm(dm, "thanks!")  # the conversation is open: a thanks continues it
    seen = await _settled(dm, "the thanks stored", lambda c: "thanks!" in str(c))
    assert seen == [(1, "open", "Can I change my delivery address? | thanks!")]
    assert dm.app.discord is not None
    await dm.app.discord.bridge.on_message(dm.member_message(dm.thread_id(), "!close"))
    _dm(dm, "thank you so much :)")  # after close: no new conversation, no reopening
    _dm(dm, "Another question: do you ship to Belgium?")
    seen = await _settled(dm, "the question", lambda c: "Belgium" in str(c))
    assert "thank you so much" not in str(seen)


async def test_a_user_who_closed_their_dms_is_a_permanent_failure_shown_in_the_thread(dm: DiscordRig) -> None:
    _dm(dm, "Please call me back")
    await _settled(dm, "a conversation", lambda c: len(c) == 1)
    dm.fake.dms.closed.add(USER)
    assert dm.app.discord is not None
    thread = dm.thread_id()
    await dm.app.discord.bridge.on_message(dm.member_message(thread, "!reply Calling you at 3pm"))
    for _ in range(3):
        await dm.app.dispatcher.drain()
    notices = [m["content"] for m in dm.fake.posts(thread) if "50007" in (m.get("content") or "")]
    assert len(notices) == 1 and "Calling you at 3pm" in notices[0]
    async with dm.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        assert [m.delivery_status for m in await uow.messages.messages_of(conv.id, ["outbound"])] == [
            "failed"
        ]


async def test_the_dm_user_is_a_contact_like_any_other(dm: DiscordRig) -> None:
    _dm(dm, "Is my warranty still valid?")
    await _settled(dm, "a conversation", lambda c: len(c) == 1)
    assert dm.app.discord is not None
    thread = dm.thread_id()
    await dm.app.discord.bridge.on_message(dm.member_message(thread, "!history"))
    answers = [m["content"] for m in dm.fake.posts(thread) if f"discord {USER}" in (m.get("content") or "")]
    assert len(answers) == 1 and "sofia" in answers[0]

    from bot.privacy.service import forget_contact

    async with dm.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        forgotten = await forget_contact(
            uow, dm.app.settings, conv.contact_id, "Alice Martin", dm.clock.now()
        )
    assert forgotten is not None and forgotten.conversations == 1
    async with dm.app.store.transaction() as uow:
        assert await uow.contacts.contact_by_identity("discord", str(USER)) is None
        texts = [m.text for m in await uow.messages.messages_of(conv.id, ["inbound"])]
    assert "warranty" not in " ".join(texts)


async def test_edited_and_deleted_dms_are_mirrored_to_the_staff_thread(dm: DiscordRig) -> None:
    first = dm.fake.dms.user_message(USER, "sofia", "The app crashes on login")
    dm.state.parse_message_create(first)
    await _settled(dm, "a conversation", lambda c: len(c) == 1)
    second = dm.fake.dms.user_message(USER, "sofia", "on Android 14")
    dm.state.parse_message_create(second)
    await _settled(dm, "the second DM", lambda c: "Android" in str(c))
    # MESSAGE_UPDATE of a DM: the whole message, no guild_id; MESSAGE_DELETE: id and channel_id only
    dm.state.parse_message_update({**first, "content": "The app crashes after login"})
    dm.state.parse_message_delete({"id": second["id"], "channel_id": second["channel_id"]})
    thread = dm.thread_id()

    def shown() -> list[str]:
        return [m.get("content") or "" for m in dm.fake.posts(thread)]

    await until(
        "the edit and the tombstone in the staff thread",
        lambda: any("edited" in t for t in shown()) and any("deleted a message" in t for t in shown()),
        between=dm.app.dispatcher.drain,
    )
    edited = next(t for t in shown() if "edited" in t)
    assert "after login" in edited and "on login" in edited  # the previous text kept
    assert any("Android 14" in t for t in shown() if "deleted" in t)
    seen = await _conversations(dm)
    assert seen[0][2].startswith("The app crashes after login")


async def test_csat_reaches_the_dm_and_the_answer_is_recorded(fake: FakeDiscord, tmp_path: Path) -> None:
    clock = ManualClock()
    channel = fake.add_text_channel("support")
    extra = (
        'dm_inbox = "dms"\n\n[inboxes.dms]\nname = "Discord DMs"\nchannel = "discord"\naddress = "bot"\n'
        f'surface = "discord"\nchat_channel = "{channel}"\n\n'
        '[inboxes.dms.csat]\nquestion = "How did we do? Reply 1-5."\nthanks = "Thanks for rating us!"\n'
    )
    app, sender = build_app(fake, tmp_path, clock, channel, extra=extra)
    await app.prepare_database()
    await app.sync_agents()
    await app.journal.start()  # each DM is journaled on receipt, then taken in from the journal
    assert app.discord is not None
    await app.discord.login()
    h = DiscordRig.around(app, clock, fake, sender, channel)
    try:
        _dm(h, "The desk arrived scratched")
        await _settled(h, "a conversation", lambda c: len(c) == 1)
        await app.discord.bridge.on_message(h.member_message(h.thread_id(), "!close"))
        dm_channel = fake.dms.channel_of(USER)
        await until(
            "the survey in the DM",
            lambda: any("How did we do?" in (m.get("content") or "") for m in fake.posts(dm_channel)),
            between=app.dispatcher.drain,
        )
        _dm(h, "2")
        await until(
            "the thanks in the DM",
            lambda: any(m.get("content") == "Thanks for rating us!" for m in fake.posts(dm_channel)),
            between=app.dispatcher.drain,
        )
        async with app.store.transaction() as uow:
            ratings = (await uow.session.execute(select(CsatRating))).scalars().all()
            assert [r.rating for r in ratings] == [2]
            assert await uow.conversations.conversation_by_number(2) is None  # the answer opened nothing new
    finally:
        await app.stop()


async def test_dms_are_journaled_on_receipt_and_those_missed_are_caught_up_on_ready(dm: DiscordRig) -> None:
    _dm(dm, "My parcel is lost")
    await _settled(dm, "a conversation", lambda c: len(c) == 1)
    async with dm.app.store.transaction() as uow:
        assert await uow.journal.counts() == {"done": 1}  # the DM went through the journal
    # two DMs the gateway never brought (sent while Threadline was down, or lost in a crash)
    dm.fake.dms.user_message(USER, "sofia", "Tracking says delivered")
    dm.fake.dms.user_message(USER, "sofia", "But nothing is here")
    assert dm.app.discord is not None
    client = dm.app.discord.client
    assert client.bridge.dms is not None
    assert await client.bridge.dms.catch_up(client) == 2
    seen = await _settled(dm, "the missed DMs", lambda c: "nothing is here" in str(c))
    assert seen == [(1, "open", "My parcel is lost | Tracking says delivered | But nothing is here")]
    assert await client.bridge.dms.catch_up(client) == 0  # read on from the last stored one
    history = dm.fake.find("GET", rf"/channels/{dm.fake.dms.channel_of(USER)}/messages$")
    assert history and all(c.query.get("after") for c in history)


@pytest.mark.parametrize(("look_back", "caught_up"), [("", 0), ("dm_catch_up_days = 30\n", 1)])
async def test_the_dm_catch_up_looks_back_as_far_as_configured(
    fake: FakeDiscord, tmp_path: Path, look_back: str, caught_up: int
) -> None:
    async with _dm_rig(fake, tmp_path, look_back) as rig:
        _dm(rig, "My parcel is lost")
        await _settled(rig, "a conversation", lambda c: len(c) == 1)
        rig.clock.advance(timedelta(days=10))  # the user's last DM is 10 days old when the bot reconnects
        rig.fake.dms.user_message(USER, "sofia", "Still nothing, ten days on")
        assert rig.app.discord is not None
        client = rig.app.discord.client
        assert client.bridge.dms is not None
        # the default looks back 7 days and misses this user; 30 days finds their DM
        assert await client.bridge.dms.catch_up(client) == caught_up


async def test_a_reply_after_the_surface_replaced_its_client_goes_through_the_new_one(dm: DiscordRig) -> None:
    _dm(dm, "My order never arrived")
    await _settled(dm, "a conversation", lambda c: len(c) == 1)
    await dm.app.dispatcher.drain()
    surface = dm.app.discord
    assert surface is not None
    # what the surface's run loop does after a failed connection attempt: close the client, build a new one
    await surface.client.close()
    surface.client = ThreadlineClient(surface.settings, surface.bridge)
    await surface.login()
    await surface.bridge.on_message(dm.member_message(dm.thread_id(), "!reply It ships today."))
    await dm.app.dispatcher.drain()
    await dm.app.dispatcher.drain()
    assert [m["content"] for m in dm.fake.posts(dm.fake.dms.channel_of(USER))] == ["It ships today."]
