"""End to end on SQLite: email in → thread and card on (fake) Discord → /claim, /label, /reply → email out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from testkit.discord.fake import APP_ID, GUILD_ID, FakeDiscord
from testkit.discord.rig import DiscordRig, build_app, component, email_in


def fields(message: dict[str, Any]) -> dict[str, str]:
    embed = message["embeds"][0]
    return {f["name"]: f["value"] for f in embed["fields"]}


async def test_email_to_discord_and_back(harness: DiscordRig) -> None:
    await harness.app.ingestor.ingest(email_in(harness.clock.now(), text="Where is my refund? @everyone"))
    await harness.app.dispatcher.drain()
    thread = harness.thread_id()
    card = harness.card(thread)
    assert fields(card)["Status"] == "open" and fields(card)["Assignee"] == "—"
    customer = harness.fake.posts(thread)[1]
    assert customer["embeds"][0]["author"]["name"] == "Jane Doe (customer)"
    assert customer["allowed_mentions"] == {"parse": []}

    assert (await harness.command("claim", thread)).json["data"]["content"] == "You claimed #1."
    assert (await harness.command("label", thread, add="refund")).json["data"][
        "content"
    ] == "#1: labels +refund."
    sent = await harness.command("reply", thread, text="Your refund left our bank today.")
    assert sent.json["data"]["content"] == "Sending your reply to the customer of #1…"
    await harness.app.dispatcher.drain()

    assert [(m.to_address, m.text, m.agent_name) for m in harness.sender.sent] == [
        ("jane@example.org", "Your refund left our bank today.", "Alice Martin")
    ]
    card = harness.fake.messages[int(card["id"])]
    assert card["edits"] >= 1  # edited in place (waiting card edits are coalesced)
    assert fields(card)["Assignee"] == "Alice Martin" and fields(card)["Labels"] == "refund"
    echo = [
        m
        for m in harness.fake.posts(thread)
        if m["embeds"]
        and m["embeds"][0]
        .get("author", {})
        .get("name", "")
        .startswith("↗ sent to customer by Alice Martin (email)")
    ]
    assert [m["embeds"][0]["description"] for m in echo] == ["Your refund left our bank today."]
    events = [m["content"] for m in harness.fake.posts(thread) if m["content"].startswith("-# ")]
    assert events == ["-# · claimed by Alice Martin", "-# · labels +refund by Alice Martin"]


async def test_card_components_still_work_after_a_restart(fake: FakeDiscord, tmp_path: Path) -> None:
    clock = ManualClock()
    channel = fake.add_text_channel("support")
    first, sender = build_app(fake, tmp_path, clock, channel, sync=True)
    await first.prepare_database()
    assert first.discord is not None
    await first.discord.login()
    await first.ingestor.ingest(email_in(clock.now()))
    await first.dispatcher.drain()
    await first.stop()
    synced = fake.find("PUT", rf"^/applications/{APP_ID}/guilds/{GUILD_ID}/commands$")
    names = {c["name"] for c in synced[0].json}
    assert {
        "claim",
        "assign",
        "label",
        "note",
        "reply",
        "snooze",
        "close",
        "reopen",
        "history",
        "inbox",
    } <= names

    second, _ = build_app(fake, tmp_path, clock, channel)
    await second.prepare_database()
    await second.sync_agents()
    assert second.discord is not None
    await second.discord.login()
    try:
        harness = DiscordRig.around(second, clock, fake, sender, channel)
        thread = harness.thread_id()
        click = await harness.interact(component(harness, harness.card(thread), "tl:claim:1", 2))
        assert click.json["data"]["content"] == "You claimed #1."
    finally:
        await second.stop()
