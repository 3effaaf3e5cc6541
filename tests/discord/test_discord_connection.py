"""What only a person can fix (a refused token, the Message Content intent off) and Discord's thread cap:
said once, with the fix, and not retried forever."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.discord.errors import INTENT_MISSING, TOKEN_REFUSED
from bot.ports import PermanentDeliveryError, ThreadRef
from bot.views import PostView
from storage.models import OutboxRow
from testkit.discord.rig import DiscordRig, email_in


async def test_a_refused_token_is_permanent_said_once_and_shown_in_readiness(
    harness: DiscordRig, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.app.ingestor.ingest(email_in(harness.clock.now()))
    await harness.app.dispatcher.drain()
    surface = harness.app.discord
    assert surface is not None
    harness.fake.token = "revoked"
    ref = ThreadRef(str(harness.channel_id), str(harness.thread_id()), "0")
    post = PostView(kind="note", author="Alice", text="internal", created_at=harness.clock.now())
    with caplog.at_level(logging.ERROR, logger="adapters.discord"):
        for _ in range(3):
            with pytest.raises(PermanentDeliveryError) as err:
                await surface.post(ref, post)
            assert err.value.reason == TOKEN_REFUSED
    assert "Reset Token" in TOKEN_REFUSED and "fake-token" not in TOKEN_REFUSED
    assert [r.message for r in caplog.records if r.name == "adapters.discord.surface"] == [
        "discord surface stopped"
    ]
    state = surface.state()
    assert not state.ok and state.detail == TOKEN_REFUSED
    readiness = await harness.app.ops.health.readiness()  # shown, but this instance still takes work:
    assert readiness.ready and readiness.components["surface:discord"].detail == TOKEN_REFUSED  # no 503


async def test_a_refused_token_at_start_stops_the_surface_without_retrying(harness: DiscordRig) -> None:
    surface = harness.app.discord
    assert surface is not None
    harness.fake.token = "revoked"
    await asyncio.wait_for(surface.run(), 5)
    assert len(harness.fake.find("GET", r"^/users/@me$")) == 2  # the fixture's login, and this one
    assert surface.state().detail == TOKEN_REFUSED


async def test_message_content_intent_off_closes_the_gateway_once_and_says_how_to_fix_it(
    harness: DiscordRig,
) -> None:
    surface = harness.app.discord
    assert surface is not None
    harness.fake.gateway.enabled = set()
    await asyncio.wait_for(surface.run(), 10)
    assert harness.fake.gateway.closed_with == [4014] and len(harness.fake.gateway.identifies) == 1
    assert surface.state().detail == INTENT_MISSING and "Message Content Intent" in INTENT_MISSING


async def test_with_the_intent_enabled_the_gateway_connects(harness: DiscordRig) -> None:
    surface = harness.app.discord
    assert surface is not None
    task = asyncio.create_task(surface.run())
    try:
        for _ in range(100):
            if surface.state().ok:
                break
            await asyncio.sleep(0.05)
        assert surface.state().ok and surface.state().detail == "up"
        (identify,) = harness.fake.gateway.identifies
        assert identify["intents"] & (1 << 15)  # Message Content, which the `!` commands need
    finally:
        await surface.close()
        await asyncio.wait_for(task, 5)


async def test_the_active_thread_cap_waits_with_one_notice_then_opens_the_thread(harness: DiscordRig) -> None:
    harness.fake.active_thread_limit = 0
    for n in range(2):
        await harness.app.ingestor.ingest(email_in(harness.clock.now(), subject=f"Q{n}"))
    await harness.app.dispatcher.drain()
    notices = [m["content"] for m in harness.fake.posts(harness.channel_id)]
    assert len(notices) == 1 and "limit of active threads" in notices[0]
    async with harness.app.store.transaction() as uow:
        rows = list((await uow.session.execute(select(OutboxRow))).scalars())
    assert rows and all(r.status != "failed" for r in rows)
    harness.fake.active_thread_limit = 1000
    harness.clock.advance(timedelta(minutes=6))
    await harness.app.dispatcher.drain()
    assert len(harness.fake.threads()) == 2
    assert len(harness.fake.posts(harness.channel_id)) == 1  # no second notice
