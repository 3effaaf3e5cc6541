"""Interactions through discord.py's own dispatch: slash commands, autocomplete, card components, messages.

Each payload is handed to ``ConnectionState.parse_interaction_create`` exactly as the
gateway's INTERACTION_CREATE would be; what we assert is the response the fake Discord
received (ephemeral flag 64, text, mentions disabled) and the resulting state.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.commands import Actor, Location, ParsedCommand
from bot.ports.inbound import InboundAttachment
from bot.views import Reply
from testkit.discord.fake import GUILD_ID, FakeDiscord
from testkit.discord.rig import AGENT_ROLE, BOB, STRANGER, DiscordRig, build_app, component, email_in, slash
from testkit.inbound import email_in as helper_email_in

EPHEMERAL = 64


async def opened(h: DiscordRig) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now()))
    await h.app.dispatcher.drain()
    return h.thread_id()


def answer(call: Any) -> str:
    assert call.json["type"] == 4, call.json
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == {"parse": []}
    return str(data["content"])


async def assignee_and_labels(h: DiscordRig) -> tuple[str | None, list[str]]:
    async with h.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        who = (await uow.agents.agent(conversation.assignee_id)).name if conversation.assignee_id else None
        return who, await uow.labels.labels_of(conversation.id)


async def test_claim_answers_ephemerally_and_claims(harness: DiscordRig) -> None:
    thread = await opened(harness)
    assert answer(await harness.command("claim", thread)) == "You claimed #1."
    assert (await assignee_and_labels(harness))[0] == "Alice Martin"
    assert answer(await harness.command("claim", thread, user=BOB)).startswith(
        "✗ #1 is claimed by Alice Martin"
    )


async def test_members_without_the_agent_role_are_refused(harness: DiscordRig) -> None:
    thread = await opened(harness)
    text = answer(await harness.command("claim", thread, user=STRANGER))
    assert text == "Only members with the configured agent role can work conversations."
    assert (await assignee_and_labels(harness))[0] is None


async def test_commands_outside_a_conversation_thread_say_where_to_use_them(harness: DiscordRig) -> None:
    await opened(harness)
    text = answer(await harness.command("claim", None))
    assert text == "✗ Use this inside a conversation thread, or name one: #42."
    listing = answer(
        await harness.interact(slash(harness, "list", {"which": "open"}, channel_id=None, group="inbox"))
    )
    assert "#1 · open · email" in listing


async def test_assign_label_note_snooze_close_reopen(harness: DiscordRig) -> None:
    thread = await opened(harness)
    assert answer(await harness.command("assign", thread, member=BOB)) == "#1 assigned to Bob Stone."
    assert answer(await harness.command("label", thread, add="refund, vip")) == "#1: labels +refund +vip."
    assert answer(await harness.command("label", thread, remove="vip")) == "#1: labels -vip."
    assert answer(await harness.command("note", thread, text="checked the order")) == "Note added."
    assert answer(await harness.command("snooze", thread, until="2h")).startswith("#1 snoozed until ")
    assert answer(await harness.command("close", thread)) == "#1 closed."
    assert answer(await harness.command("reopen", thread)) == "#1 reopened."
    assert await assignee_and_labels(harness) == ("Bob Stone", ["refund"])
    await harness.app.dispatcher.drain()
    notes = [
        m
        for m in harness.fake.posts(thread)
        if m["embeds"] and "note by" in m["embeds"][0].get("author", {}).get("name", "")
    ]
    assert [n["embeds"][0]["description"] for n in notes] == ["checked the order"]


async def test_label_autocomplete_offers_existing_labels(harness: DiscordRig) -> None:
    thread = await opened(harness)
    await harness.command("label", thread, add="refund billing")
    call = await harness.interact(slash(harness, "label", {"add": "re"}, channel_id=thread, focused="add"))
    assert call.json["type"] == 8
    assert [c["value"] for c in call.json["data"]["choices"]] == ["re", "refund"]
    call = await harness.interact(
        slash(harness, "label", {"remove": ""}, channel_id=thread, focused="remove")
    )
    assert sorted(c["value"] for c in call.json["data"]["choices"]) == ["billing", "refund"]


async def test_card_buttons_and_selects_work_from_the_message_alone(harness: DiscordRig) -> None:
    """Dynamic items: no view is kept in memory per card, the custom_id carries the number (restart-proof)."""
    thread = await opened(harness)
    await harness.command("label", thread, add="billing")
    await harness.app.dispatcher.drain()
    card = harness.card(thread)
    assert answer(await harness.interact(component(harness, card, "tl:claim:1", 2))) == "You claimed #1."
    picked = await harness.interact(component(harness, card, "tl:assign:1", 5, [str(BOB)]))
    assert answer(picked) == "#1 assigned to Bob Stone."
    await harness.app.dispatcher.drain()
    card = harness.card(thread)
    labels = await harness.interact(component(harness, card, "tl:labels:1", 3, []))
    assert answer(labels) == "#1: labels -billing."
    snooze = await harness.interact(component(harness, card, "tl:snooze:1", 3, ["tomorrow 9:00"]))
    assert answer(snooze).startswith("#1 snoozed until ")
    closing = await harness.interact(component(harness, card, "tl:close:1", 2))
    assert answer(closing) == "#1 closed."


async def test_slow_commands_are_deferred_then_answered_in_the_deferred_response(harness: DiscordRig) -> None:
    thread = await opened(harness)
    assert harness.app.discord is not None
    bridge = harness.app.discord.bridge
    bridge.settings = bridge.settings.model_copy(update={"defer_after_seconds": 0.01})
    release = asyncio.Event()
    real = bridge.commands

    class Slow:
        async def handle(
            self,
            actor: Actor,
            text: str,
            where: Location,
            *,
            prefixed: bool = True,
            files: tuple[InboundAttachment, ...] = (),
        ) -> Reply:
            await release.wait()
            return await real.handle(actor, text, where, prefixed=prefixed, files=files)

        async def execute(self, actor: Actor, parsed: ParsedCommand, where: Location) -> Reply:
            await release.wait()
            return await real.execute(actor, parsed, where)

    bridge.commands = Slow()
    payload = slash(harness, "claim", {}, channel_id=thread)
    first = await harness.interact(payload)
    assert first.json["type"] == 5 and first.json["data"]["flags"] & EPHEMERAL  # deferred, "thinking"
    release.set()
    edits = await harness.fake.wait_for("PATCH", rf"^/webhooks/\d+/{payload['token']}/messages/@original$")
    assert edits[0].json["content"] == "You claimed #1." and edits[0].json["allowed_mentions"] == {
        "parse": []
    }
    response = harness.fake.responses[payload["token"]]
    assert not response.loading and response.followups == []  # "thinking…" became the answer


async def test_agent_role_may_be_given_by_name(fake: FakeDiscord, tmp_path: Path) -> None:
    fake.roles = [
        {
            "id": str(role),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": 1,
            "permissions": "0",
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        for role, name in ((AGENT_ROLE, "Support"), (AGENT_ROLE + 1, "Sales"))
    ]
    clock = ManualClock()
    channel = fake.add_text_channel()
    app, sender = build_app(fake, tmp_path, clock, channel, role="Support")
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    try:
        h = DiscordRig.around(app, clock, fake, sender, channel)
        thread = await opened(h)
        assert answer(await h.command("claim", thread)) == "You claimed #1."
        refused = answer(await h.command("unassign", thread, user=STRANGER))
        assert refused == "Only members with the Support role can work conversations."
    finally:
        await app.stop()


async def test_reply_without_text_opens_a_multi_line_box(harness: DiscordRig) -> None:
    thread = await opened(harness)
    shown = await harness.command("reply", thread)
    assert shown.json["type"] == 9  # MODAL
    box = shown.json["data"]["components"][0]["components"][0]
    assert box["style"] == 2  # paragraph
    submit = _base_payload(harness, thread)
    submit["data"] = {
        "custom_id": shown.json["data"]["custom_id"],
        "components": [
            {
                "type": 1,
                "components": [
                    {
                        "type": 4,
                        "custom_id": box["custom_id"],
                        "value": "Dear Jane,\n\nyour refund is on its way.",
                    }
                ],
            }
        ],
    }
    assert answer(await harness.interact(submit)) == "Sending your reply to the customer of #1…"
    await harness.app.dispatcher.drain()
    assert [m.text for m in harness.sender.sent] == ["Dear Jane,\n\nyour refund is on its way."]


async def test_a_reply_box_starting_with_confirm_is_sent_as_written(harness: DiscordRig) -> None:
    thread = await opened(harness)
    shown = await harness.command("reply", thread)
    box = shown.json["data"]["components"][0]["components"][0]
    submit = _base_payload(harness, thread)
    text = "--confirm your order number, please"  # the agent's words, not the option
    submit["data"] = {
        "custom_id": shown.json["data"]["custom_id"],
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": box["custom_id"], "value": text}]}
        ],
    }
    assert answer(await harness.interact(submit)) == "Sending your reply to the customer of #1…"
    await harness.app.dispatcher.drain()
    assert [m.text for m in harness.sender.sent] == [text]


async def test_a_slash_reply_starting_with_confirm_is_sent_as_written(harness: DiscordRig) -> None:
    thread = await opened(harness)
    text = "--confirm your order number, please"
    assert "Sending your reply" in answer(await harness.command("reply", thread, text=text))
    await harness.app.dispatcher.drain()
    assert [m.text for m in harness.sender.sent] == [text]


def _base_payload(h: DiscordRig, thread: int) -> dict[str, Any]:
    payload = slash(h, "reply", {}, channel_id=thread)
    payload["type"] = 5  # MODAL_SUBMIT
    return payload


async def test_template_command_autocompletes_and_sends_the_canned_reply(harness: DiscordRig) -> None:
    thread = await opened(harness)
    call = await harness.interact(
        slash(harness, "template", {"name": "ref"}, channel_id=thread, focused="name")
    )
    assert [c["value"] for c in call.json["data"]["choices"]] == ["refund_done"]
    answered = await harness.interact(slash(harness, "template", {"name": "refund_done"}, channel_id=thread))
    assert "#1" in answer(answered)
    await harness.app.dispatcher.drain()
    (sent,) = harness.sender.sent
    assert sent.text == "Hi Jane, your refund for #1 is on its way."


async def test_replying_to_someone_elses_conversation_asks_to_confirm_the_discord_way(
    harness: DiscordRig,
) -> None:
    thread = await opened(harness)
    await harness.command("claim", thread, user=BOB)
    refused = answer(await harness.command("reply", thread, text="I can help too"))
    assert "assigned to Bob Stone" in refused and "`/reply` again with `confirm: True`" in refused
    confirmed = answer(await harness.command("reply", thread, text="I can help too", confirm=True))
    assert "Sending your reply" in confirmed


async def test_commands_sync_to_the_guild_only_and_stale_global_commands_are_cleared(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.commands[None] = [{"name": "claim", "description": "old global copy", "type": 1}]
    channel = fake.add_text_channel("support")
    app, _ = build_app(fake, tmp_path, ManualClock(), channel, sync=True)
    await app.prepare_database()
    assert app.discord is not None
    await app.discord.login()
    try:
        assert fake.commands[None] == []  # would show every command twice otherwise
        synced = fake.commands[GUILD_ID]
        assert {c["name"] for c in synced} >= {"claim", "reopen", "inbox"}
        assert all(c["contexts"] == [0] and c["dm_permission"] is False for c in synced)  # not in DMs
    finally:
        await app.stop()


async def _status(h: DiscordRig, number: int) -> str:
    async with h.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(number)
        assert conversation is not None
        return conversation.status


async def test_app_command_options_are_never_reread_as_another_part_of_a_command(harness: DiscordRig) -> None:
    thread = await opened(harness)
    await harness.app.ingestor.ingest(helper_email_in("sam@example.org", "Order 2", when=harness.clock.now()))
    await harness.app.dispatcher.drain()
    # a time starting like a conversation reference is a time the core cannot read, not "snooze #2"
    refused = answer(await harness.command("snooze", thread, until="#2 2h"))
    assert refused.startswith("✗ ")
    assert (await _status(harness, 1), await _status(harness, 2)) == ("open", "open")
    # a help topic is the topic asked about, not a reference to #1 followed by a command
    asked = slash(harness, "help", {"command": "#1 claim"}, channel_id=None, group="inbox")
    unknown = answer(await harness.interact(asked))
    assert unknown.startswith("✗ no command '#1 claim'")
    usage = answer(
        await harness.interact(slash(harness, "help", {"command": "ls"}, channel_id=None, group="inbox"))
    )
    assert "list mine|unassigned|open|snoozed|closed|all" in usage
    # parameters are split by the core: unbalanced quotes are named, nothing is sent
    options = {"name": "refund_done", "params": '"Jane Doe 42'}
    quoted = answer(await harness.interact(slash(harness, "template", options, channel_id=thread)))
    assert quoted.startswith("✗ unbalanced quotes")
    await harness.app.dispatcher.drain()
    assert harness.sender.sent == []


async def test_a_label_the_grammar_refuses_is_answered_after_the_role_check(harness: DiscordRig) -> None:
    thread = await opened(harness)
    stranger = answer(await harness.command("label", thread, user=STRANGER, add="!!!"))
    assert stranger == "Only members with the configured agent role can work conversations."
    refused = answer(await harness.command("label", thread, add="refund !!!"))
    assert refused.startswith("✗ '!!!' is not a label")
    assert await assignee_and_labels(harness) == (None, [])  # nothing half-applied
