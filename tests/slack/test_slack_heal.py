"""Slack deliveries that heal, through the fake: not in the channel then invited, a refused token then
the right one, a deleted card that comes back with its whole thread; /readyz stays 200 meanwhile."""

from __future__ import annotations

import logging

import pytest

from testkit.slack.fake import TOKEN
from testkit.slack.rig import CHANNEL, SlackRig


def _cards(world: SlackRig) -> list[dict]:
    """The conversation cards of the support channel (not the channel notices)."""
    return [m for m in world.fake.roots(CHANNEL) if str(m["text"]).startswith("#")]


def _thread_texts(world: SlackRig, card_ts: str) -> list[str]:
    return [m["text"] for m in world.fake.thread(CHANNEL, card_ts)]


async def test_not_in_channel_then_invited(world: SlackRig, caplog: pytest.LogCaptureFixture) -> None:
    world.fake.add_channel(CHANNEL, "support", member=False)
    with caplog.at_level(logging.ERROR, logger="bot.outbox.repair"):
        number = await world.email("my parcel never came", external_id="<p1@x>")
        await world.settle()
        await world.email("any news?", subject="Re: Refund for order 1881", refs=("<p1@x>",))
        await world.settle()
    assert world.fake.roots(CHANNEL) == []
    told = [r.getMessage() for r in caplog.records if "surface refuses" in r.getMessage()]
    assert len(told) == 1 and "/invite @Threadline" in told[0] and CHANNEL in told[0]
    posts = len(world.fake.called("chat.postMessage"))
    readiness = await world.app.ops.health.readiness()
    assert readiness.ready  # the database takes work: a refusing channel never makes /readyz 503
    assert readiness.as_json()["channels"][f"slack:{CHANNEL}"].startswith("broken:")  # type: ignore[index]

    await world.app.repairs.probe_all()  # still not a member: nothing is posted
    await world.settle()
    assert len(world.fake.called("chat.postMessage")) == posts

    world.fake.invite(CHANNEL)
    await world.app.repairs.probe_all()
    await world.settle()
    cards = _cards(world)
    assert len(cards) == 1 and cards[0]["text"].startswith(f"#{number}")
    assert [
        t for t in _thread_texts(world, cards[0]["ts"]) if t in ("my parcel never came", "any news?")
    ] == [
        "my parcel never came",
        "any news?",
    ]
    await world.settle()
    assert len(_cards(world)) == 1  # exactly once
    (healed,) = [m["text"] for m in world.fake.roots(CHANNEL) if m not in cards]
    assert "works again" in healed  # the one notice that it is fixed, in the channel that works again
    assert (await world.app.ops.health.readiness()).as_json()["channels"][f"slack:{CHANNEL}"] == "ok"  # type: ignore[index]


async def test_invalid_auth_then_the_right_token(world: SlackRig) -> None:
    world.fake.token = "xoxb-some-other-token"  # the configured token is refused: invalid_auth
    await world.email("first")
    await world.settle()
    await world.email("second", subject="Other subject", sender="bo@example.com")
    await world.settle()
    assert world.fake.roots(CHANNEL) == []
    readiness = await world.app.ops.health.readiness()
    assert readiness.ready
    assert str(readiness.as_json()["surfaces"]["slack"]).startswith("broken:")  # type: ignore[index]

    world.fake.token = TOKEN  # the right token again
    await world.app.repairs.probe_all()
    await world.settle()
    await world.settle()
    cards = _cards(world)
    assert len(cards) == 2
    texts = [t for card in cards for t in _thread_texts(world, card["ts"])]
    assert texts.count("first") == 1 and texts.count("second") == 1
    assert (await world.app.ops.health.readiness()).as_json()["surfaces"]["slack"] == "ok"  # type: ignore[index]


async def test_a_deleted_card_comes_back_with_its_whole_history(world: SlackRig) -> None:
    number = await world.email("one", external_id="<o1@x>")
    await world.email("two", refs=("<o1@x>",))
    await world.settle()
    old = world.card()
    assert _thread_texts(world, old["ts"]) == ["one", "two"]
    world.fake.delete(old["ts"])
    for message in world.fake.thread(CHANNEL, old["ts"]):
        world.fake.delete(message["ts"])
    await world.email("three", refs=("<o1@x>",))  # its post finds the thread gone (thread_not_found)
    await world.settle()
    await world.settle()
    new = world.card()
    assert new["ts"] != old["ts"] and new["text"].startswith(f"#{number}")
    assert [t for t in _thread_texts(world, new["ts"]) if t in ("one", "two", "three")] == [
        "one",
        "two",
        "three",
    ]


async def test_readyz_shows_a_bad_token_and_a_missing_channel_at_start(world: SlackRig) -> None:
    world.fake.token = "xoxb-revoked"
    await world.app.repairs.check_at_start()  # what `threadline run` does on start, before any delivery
    readiness = await world.app.ops.health.readiness()
    body = readiness.as_json()
    assert readiness.ready  # the database and journal take work: 200, not 503
    assert "invalid_auth" in str(body["surfaces"]["slack"])  # type: ignore[index]
    assert "surfaces.slack.bot_token" in str(body["surfaces"]["slack"])  # type: ignore[index]
    assert "xoxb-test" not in str(body)  # never the secret

    world.fake.token = TOKEN
    world.fake.add_channel(CHANNEL, "support", member=False)
    await world.app.repairs.probe_all()  # re-checks what was not ok at start
    body = (await world.app.ops.health.readiness()).as_json()
    assert body["surfaces"]["slack"] == "ok"  # type: ignore[index]
    assert "not_in_channel" in str(body["channels"][f"slack:{CHANNEL}"])  # type: ignore[index]
