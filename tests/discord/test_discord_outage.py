"""Discord down for a while: nothing is lost or posted twice, and the team is told once when it is back."""

from __future__ import annotations

from datetime import timedelta

from testkit.discord.rig import DiscordRig, email_in


async def test_discord_outage_loses_nothing_and_says_it_is_back_once(harness: DiscordRig) -> None:
    harness.fake.fail_next(
        "POST", r"^/channels/\d+/threads$", 503, {"message": "unavailable", "code": 0}, times=5
    )
    for n in range(3):
        await harness.app.ingestor.ingest(
            email_in(harness.clock.now(), text=f"question {n}", subject=f"Q{n}")
        )
    for _ in range(20):
        await harness.app.dispatcher.drain()
        harness.clock.advance(timedelta(seconds=70))
    await harness.app.dispatcher.drain()
    threads = harness.fake.threads()
    assert len(threads) == 3  # one thread per conversation, none doubled
    posts = [p for t in threads for p in harness.fake.posts(int(t["id"]))]
    questions = [p for p in posts if p["embeds"] and "question" in p["embeds"][0].get("description", "")]
    assert sorted(p["embeds"][0]["description"] for p in questions) == [
        "question 0",
        "question 1",
        "question 2",
    ]
    back = [p for p in posts if "works again" in (p.get("content") or "")]
    assert len(back) == 1, [p.get("content") for p in posts]
