"""Inbound through ``AsyncApp.async_dispatch``, really signed: messages, buttons, menus, shortcut, modal."""

from __future__ import annotations

import json
import time

from testkit.slack.payloads import (
    block_action,
    label_options,
    message_event,
    shortcut,
    slash,
    view_submission,
)
from testkit.slack.read import card_fields
from testkit.slack.signing import signed_request


def element(card: dict, action_id: str) -> dict:
    actions = card["blocks"][-1]
    found = next(e for e in actions["elements"] if e["action_id"] == action_id)
    return {**found, "block_id": actions["block_id"]}


async def test_bad_or_stale_signature_is_refused_with_401(world) -> None:
    good = slash("help")
    forged = signed_request(good.raw_body, content_type="application/x-www-form-urlencoded", secret="wrong")
    assert (await world.dispatch(forged)).status == 401
    stale = signed_request(
        good.raw_body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
    )
    assert (await world.dispatch(stale)).status == 401
    assert (await world.dispatch(good)).status == 200


async def test_plain_thread_message_is_a_note_and_not_echoed(world) -> None:
    _, card = await world.new_card()
    before = len(world.fake.thread("C_SUPPORT", card["ts"]))
    await world.dispatch(message_event("Customer called, wants a callback <!channel>", thread_ts=card["ts"]))
    await world.settle()
    assert await world.notes() == ["Customer called, wants a callback @channel"]  # decoded once
    assert len(world.fake.thread("C_SUPPORT", card["ts"])) == before  # the agent's own message shows the note
    assert world.fake.called("chat.postEphemeral") == []


async def test_bot_messages_and_our_own_are_ignored(world) -> None:
    _, card = await world.new_card()
    updates = len(world.fake.called("chat.update"))
    await world.dispatch(message_event("!close", thread_ts=card["ts"], user="UBOT"))
    await world.dispatch(
        message_event("!close", thread_ts=card["ts"], user=None, bot_id="B999", subtype="bot_message")
    )
    await world.dispatch(message_event("!close", thread_ts=card["ts"], bot_id="B777"))
    await world.dispatch(message_event("!close", thread_ts=card["ts"], subtype="message_changed"))
    await world.settle()
    assert "open" in card_fields(world.card())["Status"]
    assert len(world.fake.called("chat.update")) == updates


async def test_duplicate_event_id_is_handled_once(world) -> None:
    _, card = await world.new_card()
    first = message_event("note this once", thread_ts=card["ts"], event_id="Ev0DUPLICATE")
    again = message_event("note this once", thread_ts=card["ts"], event_id="Ev0DUPLICATE")
    assert (await world.dispatch(first)).status == 200
    await world.settle()
    assert (await world.dispatch(again)).status == 200
    await world.settle()
    assert await world.notes() == ["note this once"]


async def test_commands_in_threads_and_errors_are_ephemeral(world) -> None:
    _, card = await world.new_card()
    await world.dispatch(message_event("!snooze whenever", thread_ts=card["ts"]))
    await world.settle()
    ephemeral = world.fake.called("chat.postEphemeral")[-1].args
    assert ephemeral["user"] == "UALICE" and ephemeral["thread_ts"] == card["ts"]
    assert ephemeral["text"].startswith(":warning:")
    await world.dispatch(message_event("chatter in an unrelated thread", thread_ts="1600000000.000001"))
    await world.settle()
    assert len(world.fake.called("chat.postEphemeral")) == 1


async def test_card_buttons_and_menus(world) -> None:
    number, card = await world.new_card()
    url = f"{world.fake.root}/response/x"
    await world.dispatch(
        block_action({**element(card, "tl_assign"), "selected_user": "UBOB"}, card=card, response_url=url)
    )
    await world.settle()
    assert card_fields(world.fake.last_update(card["ts"]))["Assignee"] == "Bob"
    assert world.fake.responses[-1]["text"] == f"#{number} assigned to Bob."

    await world.dispatch(label_options("", card_number=number))
    options = await world.dispatch(label_options("Urgent Case", card_number=number))
    assert [o["value"] for o in json.loads(options.body)["options"]] == ["urgent-case"]
    selected = [{"text": {"type": "plain_text", "text": "+ create"}, "value": "urgent-case"}]
    await world.dispatch(
        block_action({**element(card, "tl_labels"), "selected_options": selected}, card=card)
    )
    await world.settle()
    card = world.card()
    assert card_fields(card)["Labels"] == "`urgent-case`"
    listed = await world.dispatch(label_options("urg", card_number=number))
    assert [o["value"] for o in json.loads(listed.body)["options"]] == [
        "urgent-case",
        "urg",
    ]  # or create "urg"
    await world.dispatch(block_action({**element(card, "tl_labels"), "selected_options": []}, card=card))
    await world.settle()
    assert card_fields(world.card())["Labels"] == "_none_"

    snooze = element(card, "tl_snooze")
    await world.dispatch(block_action({**snooze, "selected_option": snooze["options"][0]}, card=card))
    await world.settle()
    assert "snoozed" in card_fields(world.card())["Status"]
    await world.dispatch(block_action(element(world.card(), "tl_close"), card=world.card()))
    await world.settle()
    assert "closed" in card_fields(world.card())["Status"]
    await world.dispatch(block_action(element(world.card(), "tl_reopen"), card=world.card()))
    await world.settle()
    assert "open" in card_fields(world.card())["Status"]


async def test_claim_of_a_claimed_conversation_says_who_has_it(world) -> None:
    _, card = await world.new_card()
    url = f"{world.fake.root}/response/y"
    await world.dispatch(block_action(element(card, "tl_claim"), card=card, user="UBOB", response_url=url))
    await world.settle()
    await world.dispatch(block_action(element(card, "tl_claim"), card=card, user="UALICE", response_url=url))
    await world.settle()
    assert "claimed by Bob" in world.fake.responses[-1]["text"]


async def test_shortcut_opens_modal_and_submission_replies(world) -> None:
    _, card = await world.new_card()
    customer_post = world.fake.thread("C_SUPPORT", card["ts"])[0]
    assert (await world.dispatch(shortcut(customer_post))).status == 200
    await world.settle()
    view = world.fake.called("views.open")[-1].args["view"]
    assert view["callback_id"] == "tl_reply_modal"
    assert json.loads(view["private_metadata"])["thread_ts"] == card["ts"]
    empty = await world.dispatch(view_submission(view, "  "))
    assert json.loads(empty.body)["response_action"] == "errors"
    assert (await world.dispatch(view_submission(view, "We are on it!"))).status == 200
    await world.settle()
    sent = list(world.outgoing.glob("*.eml"))
    assert len(sent) == 1 and b"We are on it!" in sent[0].read_bytes()


async def test_a_modal_reply_starting_with_confirm_is_sent_as_written(world) -> None:
    _, card = await world.new_card()
    customer_post = world.fake.thread("C_SUPPORT", card["ts"])[0]
    await world.dispatch(shortcut(customer_post))
    await world.settle()
    view = world.fake.called("views.open")[-1].args["view"]
    text = "--confirm your order number, please"  # the agent's words, not the option
    assert (await world.dispatch(view_submission(view, text))).status == 200
    await world.settle()
    sent = list(world.outgoing.glob("*.eml"))
    assert len(sent) == 1 and b"--confirm your order number, please" in sent[0].read_bytes()


async def test_only_team_members_may_act(make_world) -> None:
    world = await make_world('allowed_usergroup = "S_SUPPORT"')
    world.fake.usergroups["S_SUPPORT"] = ["UALICE"]
    number, card = await world.new_card()
    url = f"{world.fake.root}/response/z"
    await world.dispatch(slash(f"close #{number}", user="UMALLORY", response_url=url))
    await world.dispatch(
        block_action(element(card, "tl_claim"), card=card, user="UMALLORY", response_url=url)
    )
    await world.dispatch(message_event("!close", thread_ts=card["ts"], user="UMALLORY"))
    updates = len(world.fake.called("chat.update"))
    await world.settle()
    assert [r["text"][:45] for r in world.fake.responses] == [
        "Only members of the <!subteam^S_SUPPORT> grou"
    ] * 2
    assert len(world.fake.responses) == 2
    assert "Only members" in world.fake.called("chat.postEphemeral")[-1].args["text"]
    assert len(world.fake.called("chat.update")) == updates  # nothing changed
    await world.dispatch(slash(f"claim #{number}", user="UALICE", response_url=url))
    await world.settle()
    assert world.fake.responses[-1]["text"] == f"You claimed #{number}."


async def test_slash_assign_with_a_mention_registers_the_teammate(world) -> None:
    number, _ = await world.new_card()
    url = f"{world.fake.root}/response/m"
    await world.dispatch(slash(f"assign #{number} <@UBOB|bob>", response_url=url))
    await world.settle()
    assert world.fake.responses[-1]["text"] == f"#{number} assigned to Bob."


async def test_slash_help_shows_the_slash_forms_and_a_missing_number_is_explained(world) -> None:
    url = f"{world.fake.root}/response/h"
    await world.dispatch(slash("help", response_url=url))
    await world.dispatch(slash("claim", response_url=url))
    await world.settle()
    help_text, claim = (r["text"] for r in world.fake.responses)
    assert "`/inbox claim #42`" in help_text and "`/inbox label #42 +refund -billing`" in help_text
    assert "`/inbox list mine|unassigned|open|snoozed|closed|all`" in help_text and "`!claim`" in help_text
    assert claim.startswith("Name the conversation: `/inbox claim #42`") and "`!claim`" in claim
    assert "inside a conversation thread" not in claim  # where slash commands cannot be used


async def test_a_user_group_gate_on_a_free_workspace_falls_back_to_the_support_channel(
    make_world, caplog
) -> None:
    world = await make_world('allowed_usergroup = "S_SUPPORT"')
    world.fake.paid_workspace = False
    world.fake.members["C_SUPPORT"] = ["UALICE"]
    number, _ = await world.new_card()
    url = f"{world.fake.root}/response/f"
    await world.dispatch(slash(f"claim #{number}", user="UALICE", response_url=url))
    await world.dispatch(slash(f"close #{number}", user="UMALLORY", response_url=url))
    await world.settle()
    assert sorted(r["text"] for r in world.fake.responses) == [
        "Only members of <#C_SUPPORT> can work support conversations."
        " Ask an admin to add you, then try again.",
        f"You claimed #{number}.",
    ]
    warnings = [r for r in caplog.records if "paid_teams_only" in r.getMessage()]
    assert len(warnings) == 1 and "allowed_channel" in warnings[0].getMessage()


async def test_the_modal_opens_within_the_trigger_ids_life_even_when_membership_is_slow(make_world) -> None:
    world = await make_world('allowed_usergroup = "S_SUPPORT"')
    world.fake.usergroups["S_SUPPORT"] = ["UALICE"]
    _, card = await world.new_card()
    customer_post = world.fake.thread("C_SUPPORT", card["ts"])[0]
    world.fake.trigger_seconds = 0.3  # Slack's 3 s, scaled down
    world.fake.delays["usergroups.users.list"] = 0.5  # a slow membership refresh
    await world.dispatch(shortcut(customer_post, user="UMALLORY"))
    await world.settle()
    opened = world.fake.called("views.open")
    assert len(opened) == 1 and world.fake.used_triggers == {opened[0].args["trigger_id"]}
    refused = world.fake.called("views.update")[-1].args["view"]
    assert "Only members of" in json.dumps(refused) and "submit" not in refused
