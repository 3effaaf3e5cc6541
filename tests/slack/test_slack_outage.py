"""Slack down for a while: nothing is lost or posted twice, and the team is told once when it is back."""

from __future__ import annotations

from testkit.slack.rig import CHANNEL, SlackRig


async def test_slack_outage_loses_nothing_and_says_it_is_back_once(world: SlackRig) -> None:
    world.fake.fail("chat.postMessage", "internal_error", times=6, status=503)
    numbers = [
        await world.email(f"question {n}", subject=f"Question {n}", sender=f"c{n}@example.com")
        for n in range(3)
    ]
    for _ in range(20):
        await world.settle()
        world.advance(70)
    await world.settle()
    cards = world.fake.roots(CHANNEL)
    assert sorted(int(c["text"].split(" ")[0].lstrip("#")) for c in cards) == numbers  # one card each
    firsts = [
        m for c in cards for m in world.fake.thread(CHANNEL, c["ts"]) if "question" in str(m.get("blocks"))
    ]
    assert len(firsts) == 3  # every customer message exactly once
    back = [
        m["text"] for c in cards for m in world.fake.thread(CHANNEL, c["ts"]) if "works again" in m["text"]
    ]
    assert len(back) == 1, back
