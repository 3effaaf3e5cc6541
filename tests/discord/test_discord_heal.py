"""Discord deliveries that heal, through the fake: the bot loses access to the inbox channel (403 50001
Missing Access), then is granted it again; every message then shows once, in order, in one thread."""

from __future__ import annotations

import logging

import pytest

from testkit.discord.rig import DiscordRig, email_in


def _texts(harness: DiscordRig, thread_id: int) -> list[str]:
    return [
        post["embeds"][0].get("description", "")
        for post in harness.fake.posts(thread_id)
        if post.get("embeds") and "question" in post["embeds"][0].get("description", "")
    ]


async def test_missing_access_then_granted(harness: DiscordRig, caplog: pytest.LogCaptureFixture) -> None:
    harness.fake.no_access.add(harness.channel_id)
    with caplog.at_level(logging.ERROR, logger="bot.outbox.repair"):
        for n, refs in enumerate([(), ("<q0@x>",), ("<q0@x>",)]):
            await harness.app.ingestor.ingest(
                email_in(harness.clock.now(), text=f"question {n}", external_id=f"<q{n}@x>", thread_refs=refs)
            )
            await harness.app.dispatcher.drain()
    assert harness.fake.threads() == []
    told = [r.getMessage() for r in caplog.records if "surface refuses" in r.getMessage()]
    assert len(told) == 1 and "50001" in told[0] and "View Channel" in told[0]
    readiness = await harness.app.ops.health.readiness()
    assert readiness.ready  # still takes work: the broken channel is in the body, not a 503
    assert str(readiness.as_json()["channels"][f"discord:{harness.channel_id}"]).startswith("broken:")  # type: ignore[index]

    calls = len(harness.fake.calls)
    await harness.app.dispatcher.drain()
    assert len(harness.fake.calls) == calls  # parked rows do not call Discord

    await harness.app.repairs.probe_all()  # still no access
    await harness.app.dispatcher.drain()
    assert harness.fake.threads() == []

    harness.fake.no_access.clear()  # the bot's role gets View Channel back
    await harness.app.repairs.probe_all()
    await harness.app.dispatcher.drain()
    await harness.app.dispatcher.drain()
    threads = harness.fake.threads()
    assert len(threads) == 1
    assert _texts(harness, int(threads[0]["id"])) == ["question 0", "question 1", "question 2"]
    state = (await harness.app.ops.health.readiness()).as_json()["channels"]
    assert state[f"discord:{harness.channel_id}"] == "ok"  # type: ignore[index]
