"""Slack DMs to the app end to end: a member writes to the app, the team works in C_SUPPORT's threads."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import CsatRating
from testkit.slack.dm_events import dm_message
from testkit.slack.edit_events import message_changed
from testkit.slack.payloads import message_event

DMS = 'dm_inbox = "desk"'
DESK_INBOX = """
[inboxes.desk]
name = "IT desk"
channel = "slack"
address = "DM to Threadline"
surface = "slack"
chat_channel = "C_SUPPORT"

[inboxes.desk.csat]
question = "How did we do? Reply with 1 (poor) to 5 (excellent)."
thanks = "Thank you for your rating!"
"""


async def _world(make_world):
    world = await make_world(DMS, extra=DESK_INBOX)
    world.fake.add_user("UCUST", "Carla Customer", "carla@example.com")
    return world


async def _inbound(world, number: int = 1) -> list[str]:
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(number)
        assert conv is not None and conv.inbox == "desk" and conv.channel == "slack"
        return [m.text for m in await uow.messages.messages_of(conv.id, ["inbound"])]


def _texts_in(world, channel: str) -> list[str]:
    return [c.args["text"] for c in world.fake.called("chat.postMessage") if c.args["channel"] == channel]


async def test_a_dm_opens_a_conversation_the_team_works_and_reply_answers_in_the_dm(make_world) -> None:
    world = await _world(make_world)
    request, first = dm_message(world.fake, "My laptop will not boot")
    assert (await world.dispatch(request)).status == 200
    await world.settle()
    card = world.card()
    assert card["channel"] == "C_SUPPORT"
    assert any("will not boot" in str(m.get("blocks")) for m in world.fake.thread("C_SUPPORT", card["ts"]))
    follow, _ = dm_message(world.fake, "It shows a blinking cursor")  # continues the open conversation
    await world.dispatch(follow)
    await world.settle()
    assert await _inbound(world) == ["My laptop will not boot", "It shows a blinking cursor"]
    await world.dispatch(message_event("!reply Hold the power button for 10 s", thread_ts=card["ts"]))
    await world.settle()
    await world.settle()
    answers = [c.args for c in world.fake.called("chat.postMessage") if c.args["channel"] == first["channel"]]
    assert [a["text"] for a in answers] == ["Hold the power button for 10 s"]
    assert not answers[0].get("thread_ts")  # in the DM itself, not in a thread of it
    async with world.app.store.transaction() as uow:
        assert await uow.journal.counts() == {"done": 3}  # every event journaled before its ack


async def test_a_redelivered_dm_is_taken_in_once_and_an_edit_is_mirrored(make_world) -> None:
    world = await _world(make_world)
    request, event = dm_message(world.fake, "VPN drops every hour", event_id="EvSAMEDM")
    await world.dispatch(request)
    await world.dispatch(request)
    await world.settle()
    assert await _inbound(world) == ["VPN drops every hour"]
    edit = message_changed(
        ts=event["ts"],
        thread_ts=None,
        before="VPN drops every hour",
        after="VPN drops every 30 minutes",
        user="UCUST",
        channel=event["channel"],
        channel_type="im",
    )
    await world.dispatch(edit)
    await world.settle()
    assert await _inbound(world) == ["VPN drops every 30 minutes"]


async def test_files_go_both_ways_in_the_dm(make_world) -> None:
    world = await _world(make_world)
    shot = world.fake.add_file("bsod.png", b"\x89PNG blue", "image/png")
    request, event = dm_message(world.fake, "This screen", files=[shot])
    await world.dispatch(request)
    await world.settle()
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        first = (await uow.messages.messages_of(conv.id, ["inbound"]))[0]
        assert [(a.filename, a.data) for a in await uow.messages.attachments_of(first.id)] == [
            ("bsod.png", b"\x89PNG blue")
        ]
    guide = world.fake.add_file("steps.pdf", b"%PDF steps", "application/pdf")
    await world.dispatch(message_event("!reply Try these steps", thread_ts=world.card()["ts"], files=[guide]))
    await world.settle()
    await world.settle()
    uploads = [c.args for c in world.fake.called("files.completeUploadExternal")]
    into_dm = [u for u in uploads if u.get("channel_id") == event["channel"]]
    assert len(into_dm) == 1 and not into_dm[0].get("thread_ts")
    assert world.fake.files[into_dm[0]["files"][0]["id"]]["title"] == "steps.pdf"


async def test_csat_reaches_the_dm_and_the_answer_is_recorded(make_world) -> None:
    world = await _world(make_world)
    request, event = dm_message(world.fake, "Printer offline")
    await world.dispatch(request)
    await world.settle()
    await world.dispatch(message_event("!close", thread_ts=world.card()["ts"]))
    await world.settle()
    await world.settle()
    in_dm = _texts_in(world, event["channel"])
    assert any("How did we do?" in t for t in in_dm)
    answer, _ = dm_message(world.fake, "5")
    await world.dispatch(answer)
    await world.settle()
    await world.settle()
    async with world.app.store.transaction() as uow:
        ratings = (await uow.session.execute(select(CsatRating))).scalars().all()
        assert [r.rating for r in ratings] == [5]
        assert await uow.conversations.conversation_by_number(2) is None  # the answer opened nothing new
    in_dm = _texts_in(world, event["channel"])
    assert in_dm[-1] == "Thank you for your rating!"


async def test_a_reply_to_a_dm_the_app_cannot_reach_fails_visibly(make_world) -> None:
    world = await _world(make_world)
    request, event = dm_message(world.fake, "Need a new badge")
    await world.dispatch(request)
    await world.settle()
    world.fake.close_im(event["channel"])  # the member left the workspace: Slack has no such DM any more
    await world.dispatch(message_event("!reply Picking it up at 3", thread_ts=world.card()["ts"]))
    await world.settle()
    await world.settle()
    staff = [m.get("text") or "" for m in world.fake.thread("C_SUPPORT", world.card()["ts"])]
    assert any(
        "not delivered: Slack cannot post to the member's DM" in t and "(channel_not_found)" in t
        for t in staff
    )
    await world.email("Another question")  # the staff channel was not taken for the refused one
    await world.settle()
    assert len(world.fake.roots("C_SUPPORT")) == 2
