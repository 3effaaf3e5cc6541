"""Reactions as commands on Slack, end to end through the fake: 👀 claim, ✅ close, 🚨 urgent, 🔁 reopen."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import AuditEvent
from testkit.slack.payloads import message_event, reaction_body, reaction_event
from testkit.slack.read import card_fields
from testkit.waiting import until


async def _audit(world, action: str) -> list[AuditEvent]:
    async with world.app.store.transaction() as uow:
        rows = (await uow.session.execute(select(AuditEvent).where(AuditEvent.action == action))).scalars()
        return list(rows)


async def test_eyes_on_the_card_claims_and_the_audit_names_the_reactor(world) -> None:
    await world.email("My order never arrived.")
    await world.settle()
    card = world.card()
    response = await world.dispatch(reaction_event(card, "eyes"))
    assert response.status == 200
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Alice"
    assert any("claimed by Alice" in m["text"] for m in world.fake.thread("C_SUPPORT", card["ts"]))
    [audit] = await _audit(world, "reaction")
    assert audit.actor == "Alice"
    assert audit.detail["emoji"] == "👀" and audit.detail["command"] == "claim"


async def test_reactions_on_a_message_in_the_thread_close_and_prioritise(world) -> None:
    await world.email("Refund please.")
    await world.settle()
    card = world.card()
    customer = world.fake.thread("C_SUPPORT", card["ts"])[0]
    await world.dispatch(reaction_event(customer, "rotating_light", user="UBOB"))
    await world.settle()
    assert "urgent" in card_fields(world.fake.last_update(card["ts"]))["Priority"].lower()
    await world.dispatch(reaction_event(customer, "white_check_mark::skin-tone-3", user="UBOB"))
    await world.settle()
    assert "closed" in card_fields(world.fake.last_update(card["ts"]))["Status"]
    texts = [m["text"] for m in world.fake.thread("C_SUPPORT", card["ts"])]
    assert any("priority urgent by Bob" in t for t in texts) and any("closed by Bob" in t for t in texts)
    await world.dispatch(reaction_event(card, "repeat", user="UBOB"))
    await world.settle()
    assert "open" in card_fields(world.fake.last_update(card["ts"]))["Status"]


async def test_a_removed_reaction_is_ignored_and_other_emoji_do_nothing(world) -> None:
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "eyes"))
    await world.settle()
    before = len(world.fake.thread("C_SUPPORT", card["ts"]))
    await world.dispatch(reaction_event(card, "eyes", removed=True))
    await world.dispatch(reaction_event(card, "thumbsup", user="UBOB"))
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Alice"
    assert len(world.fake.thread("C_SUPPORT", card["ts"])) == before
    assert len(await _audit(world, "reaction")) == 1
    async with world.app.store.transaction() as uow:
        assert await uow.journal.counts() == {"done": 3}  # ignored reactions are done too


async def test_undo_on_removal_when_configured(make_world) -> None:
    world = await make_world(extra='\n[reactions]\non_removal = "undo"\n')
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "eyes"))
    await world.settle()
    await world.dispatch(reaction_event(card, "eyes", removed=True))
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "_unassigned_"
    assert any("unassigned from Alice" in m["text"] for m in world.fake.thread("C_SUPPORT", card["ts"]))


async def test_a_refused_reaction_is_answered_only_to_the_reactor(world) -> None:
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "eyes"))
    await world.settle()
    await world.dispatch(reaction_event(card, "eyes", user="UBOB"))
    await world.settle()
    ephemeral = world.fake.called("chat.postEphemeral")[-1].args
    assert ephemeral["user"] == "UBOB" and "claimed by Alice" in ephemeral["text"]
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Alice"


async def test_a_redelivered_reaction_event_runs_once(world) -> None:
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "rotating_light", event_id="EvSAME"))
    await world.dispatch(reaction_event(card, "rotating_light", event_id="EvSAME"))
    await world.settle()
    assert len(await _audit(world, "reaction")) == 1


async def test_a_reaction_over_socket_mode_is_journaled_then_acknowledged(make_world) -> None:
    world = await make_world('app_token = "xapp-test"', mode="socket")
    await world.email("hello over the socket")
    await world.settle()
    card = world.card()
    await world.slack.start()
    await until("socket connected", lambda: bool(world.fake.sockets))
    envelope = {"type": "events_api", "accepts_response_payload": False}
    body = reaction_body(card, "eyes", event_id="EvSOCKR")
    await world.fake.push({**envelope, "envelope_id": "env-r1", "payload": body})
    await world.fake.push({**envelope, "envelope_id": "env-r2", "payload": body, "retry_attempt": 1})
    await until(
        "both acked", lambda: {"env-r1", "env-r2"} <= {a.get("envelope_id") for a in world.fake.socket_acks}
    )
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Alice"
    assert len(await _audit(world, "reaction")) == 1


async def test_reactions_of_people_who_may_not_act_change_nothing_and_get_no_answer(make_world) -> None:
    world = await make_world('allowed_usergroup = "S_SUPPORT"')
    world.fake.usergroups["S_SUPPORT"] = ["UALICE"]
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "white_check_mark", user="UMALLORY"))
    await world.settle()
    assert "open" in card_fields(world.card())["Status"] and world.fake.last_update(card["ts"]) is None
    assert world.fake.called("chat.postEphemeral") == []
    assert await _audit(world, "reaction") == []


async def test_a_slack_map_may_name_emoji_by_short_name(make_world) -> None:
    world = await make_world(
        extra='\n[reactions.slack]\nmap = { ":eyes:" = "claim", ":white_check_mark:" = "close" }\n'
    )
    await world.email("Hello")
    await world.settle()
    card = world.card()
    await world.dispatch(reaction_event(card, "eyes"))
    await world.dispatch(reaction_event(card, "rotating_light"))  # not in this surface's map
    await world.settle()
    fields = card_fields(world.fake.last_update(card["ts"]))
    assert fields["Assignee"] == "Alice" and "urgent" not in fields["Priority"].lower()


async def test_a_reaction_on_a_teammates_own_message_in_the_thread_applies(world) -> None:
    await world.email("Where is my parcel?")
    await world.settle()
    card = world.card()
    typed = message_event("asking the warehouse", user="UBOB", thread_ts=card["ts"])
    event = json.loads(typed.raw_body)["event"]
    world.fake.receive(event)  # Slack now holds Bob's message in the thread
    await world.dispatch(typed)
    await world.settle()
    # reaction_added names only the message (item.ts) and its author (item_user), never its thread
    await world.dispatch(reaction_event({**event, "user": "UBOB"}, "eyes"))
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Alice"
    [lookup] = world.fake.called("conversations.replies")
    assert lookup.args["ts"] == event["ts"]
    [audit] = await _audit(world, "reaction")
    assert audit.detail["command"] == "claim"


async def test_a_reaction_on_a_message_outside_every_thread_does_nothing(world) -> None:
    await world.email("Hello")
    await world.settle()
    card = world.card()
    typed = message_event("lunch?", user="UBOB", thread_ts=None)
    event = json.loads(typed.raw_body)["event"]
    world.fake.receive(event)
    await world.dispatch(reaction_event(event, "eyes"))
    await world.settle()
    assert world.fake.last_update(card["ts"]) is None
    assert await _audit(world, "reaction") == []
    async with world.app.store.transaction() as uow:
        assert await uow.journal.counts() == {"done": 1}  # the reaction, done with nothing to do
