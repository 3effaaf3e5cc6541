"""A refusal is told to the team in chat, through the fake Slack: one notice where the team works (another
inbox's channel when the refused one is the only way into its own) naming what refused, Slack's answer and
the fix, and one notice when it is healed; never one per waiting row. With nowhere to post, the log says it
and the healed channel gets the one notice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest

from testkit.slack.fake import TOKEN
from testkit.slack.rig import CHANNEL, SlackRig

SALES = "C_SALES"
_SALES_INBOX = f"""
[inboxes.sales]
channel = "email"
address = "sales@example.com"
surface = "slack"
chat_channel = "{SALES}"
"""


def _notices(world: SlackRig, channel: str) -> list[str]:
    return [str(m["text"]) for m in world.fake.roots(channel) if not str(m["text"]).startswith("#")]


async def test_not_in_channel_is_told_in_another_channel_once_and_healed_once(
    make_world: Callable[..., Awaitable[SlackRig]],
) -> None:
    world = await make_world(extra=_SALES_INBOX)
    world.fake.add_channel(CHANNEL, "support", member=False)
    world.fake.add_channel(SALES, "sales", member=True)
    await world.email("my parcel never came", external_id="<p1@x>")
    await world.email("any news?", subject="Re: Refund for order 1881", refs=("<p1@x>",))
    await world.email("hello?", subject="Other", sender="bo@example.com")
    for _ in range(3):
        await world.settle()
    assert world.fake.roots(CHANNEL) == []
    told = _notices(world, SALES)
    assert len(told) == 1, told  # one notice for the refused channel, not one per waiting row
    assert CHANNEL in told[0] and "not_in_channel" in told[0] and "/invite @Threadline" in told[0]

    await world.app.repairs.probe_all()  # still refused: nothing more is said
    await world.settle()
    assert len(_notices(world, SALES)) == 1

    world.fake.invite(CHANNEL)
    await world.app.repairs.probe_all()
    for _ in range(3):
        await world.settle()
    told = _notices(world, SALES)
    assert len(told) == 2, told  # and one when it is healed, where the first one went
    assert "✅ " in told[1] and CHANNEL in told[1] and "2 conversations" in told[1]
    assert len(world.fake.roots(CHANNEL)) == 2  # the two cards, each once; no notice in the healed channel
    await world.app.repairs.probe_all()
    await world.settle()
    assert len(_notices(world, SALES)) == 2


async def test_invalid_auth_with_nowhere_to_post_is_logged_then_told_once_healed(
    world: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.token = "xoxb-some-other-token"  # the configured token is refused: invalid_auth
    with caplog.at_level(logging.ERROR):
        await world.email("first")
        await world.email("second", subject="Other subject", sender="bo@example.com")
        for _ in range(2):
            await world.settle()
    errors = [r.getMessage() for r in caplog.records if r.name == "bot.outbox.repair"]
    assert (
        len(errors) == 1 and "every channel" in errors[0] and "invalid_auth" in errors[0]
    )  # the only way in is the refused one: the log
    assert "xoxb-test" not in caplog.text

    world.fake.token = TOKEN
    await world.app.repairs.probe_all()
    for _ in range(3):
        await world.settle()
    told = _notices(world, CHANNEL)
    assert len(told) == 1, told  # the healed surface gets the one notice (nobody could read the first)
    assert "✅ " in told[0] and "Slack" in told[0] and "invalid_auth" in told[0]
    assert len([m for m in world.fake.roots(CHANNEL) if str(m["text"]).startswith("#")]) == 2


async def test_a_refused_channel_is_told_on_another_surface(
    make_world: Callable[..., Awaitable[SlackRig]],
) -> None:
    """Slack refuses the only Slack channel; the terminal (local surface) inbox shows the notice."""
    world = await make_world(
        extra='[surfaces.local]\nagent = "alice"\n\n[agents.alice]\nname = "Alice"\n'
        'identities = { local = "alice" }\n\n[inboxes.desk]\nchannel = "email"\n'
        'address = "desk@example.com"\nsurface = "local"\nchat_channel = "desk"\n'
    )
    world.fake.add_channel(CHANNEL, "support", member=False)
    await world.email("my parcel never came")
    for _ in range(2):
        await world.settle()
    local = world.app.local
    assert local is not None
    told = [post.text for _, post, _ in local.channel_posts]
    assert len(told) == 1 and "Slack" in told[0] and CHANNEL in told[0] and "/invite" in told[0]
