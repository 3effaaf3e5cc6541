"""Slack intake channels end to end: customers write in C_HELP, the team works in C_SUPPORT's threads."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands import Actor
from storage.models import CsatRating
from testkit.slack.edit_events import message_changed, message_deleted
from testkit.slack.intake_events import HELP, customer_message
from testkit.slack.payloads import message_event

INTAKE = 'intake_channels = [{ channel = "C_HELP", inbox = "help" }]'
HELP_INBOX = """
[inboxes.help]
name = "Help channel"
channel = "slack"
address = "#help"
surface = "slack"
chat_channel = "C_SUPPORT"
"""


async def _world(make_world):
    world = await make_world(INTAKE, extra=HELP_INBOX)
    world.fake.add_user("UCUST", "Carla Customer", "carla@customer.example")
    world.fake.add_channel(HELP, "help")
    return world


async def _conversations(world) -> list[tuple[int, str, list[str]]]:
    async with world.app.store.transaction() as uow:
        found = []
        for number in range(1, 10):
            conv = await uow.conversations.conversation_by_number(number)
            if conv is not None:
                texts = [m.text for m in await uow.messages.messages_of(conv.id, ["inbound"])]
                found.append((number, conv.inbox, texts))
        return found


async def test_a_channel_message_opens_a_conversation_worked_in_the_staff_thread(make_world) -> None:
    world = await _world(make_world)
    request, root = customer_message(
        world.fake, "Our SSO login fails since this morning", user_team="TCUSTORG"
    )
    assert (await world.dispatch(request)).status == 200
    await world.settle()
    assert await _conversations(world) == [(1, "help", ["Our SSO login fails since this morning"])]
    card = world.card()
    assert card["channel"] == "C_SUPPORT"
    staff = world.fake.thread("C_SUPPORT", card["ts"])
    assert any("SSO login fails" in str(m.get("blocks")) for m in staff)

    follow, _ = customer_message(world.fake, "It says invalid SAML response", thread_ts=root)
    await world.dispatch(follow)
    await world.settle()
    conversations = await _conversations(world)
    assert conversations == [
        (1, "help", ["Our SSO login fails since this morning", "It says invalid SAML response"])
    ]

    await world.dispatch(message_event("checking the IdP logs", thread_ts=card["ts"]))  # a note
    await world.dispatch(message_event("!reply We found it & fixed it <3", thread_ts=card["ts"]))
    await world.settle()
    await world.settle()
    in_help = world.fake.thread(HELP, root)
    answers = [m for m in in_help if m.get("text") and "fixed" in m["text"]]
    assert [m["text"] for m in answers] == ["We found it &amp; fixed it &lt;3"]  # shown literally
    assert not any("IdP logs" in str(m) for m in world.fake.messages.values() if m["channel"] == HELP)
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None and conv.channel == "slack"
        first = (await uow.messages.messages_of(conv.id, ["inbound"]))[0]
        reply = (await uow.messages.messages_of(conv.id, ["outbound"]))[0]
    # the Slack Connect organisation, shown by its id: the fake's team.info does not know it (team_not_found)
    assert (first.meta or {}).get("account") == "TCUSTORG"
    assert "Carla Customer (UCUST) · org TCUSTORG" in str(world.card()["blocks"][0])  # shown on the card
    assert reply.delivery_status == "sent" and reply.external_id == f"{HELP}:{answers[0]['ts']}"


async def test_intake_rules_group_ignore_pleasantries_and_opt_outs(make_world) -> None:
    world = await _world(make_world)
    for text in ("thanks!", ":tada: :tada:", "(no ticket) the office is closed Friday"):
        request, _ = customer_message(world.fake, text)
        await world.dispatch(request)
    await world.settle()
    assert await _conversations(world) == []

    first, _ = customer_message(world.fake, "Invoice 42 is wrong")
    second, _ = customer_message(world.fake, "It charges us twice")  # within the gap: the same one
    await world.dispatch(first)
    await world.settle()
    await world.dispatch(second)
    await world.settle()
    assert await _conversations(world) == [(1, "help", ["Invoice 42 is wrong", "It charges us twice"])]
    world.advance(600)  # past [intake] group_seconds (300)
    later, _ = customer_message(world.fake, "Also: can we add a seat?")
    await world.dispatch(later)
    await world.settle()
    assert [(n, texts) for n, _, texts in await _conversations(world)][-1] == (
        2,
        ["Also: can we add a seat?"],
    )
    ours, _ = customer_message(world.fake, "Reply from a bot", bot_id="B1")
    await world.dispatch(ours)
    agent, _ = customer_message(world.fake, "I'll look into it", user="UALICE")  # an agent, in front
    await world.app.commands.register(Actor("slack", "UALICE", "Alice"))
    await world.dispatch(agent)
    await world.settle()
    assert len(await _conversations(world)) == 2


async def test_customer_edits_and_deletions_are_mirrored_to_the_staff_thread(make_world) -> None:
    world = await _world(make_world)
    request, root = customer_message(world.fake, "Export button missing")
    await world.dispatch(request)
    await world.settle()
    reply, reply_ts = customer_message(world.fake, "on the reports page", thread_ts=root)
    await world.dispatch(reply)
    await world.settle()
    edit = message_changed(
        ts=root,
        thread_ts=root,
        before="Export button missing",
        after="Export button missing (Chrome only)",
        user="UCUST",
        channel=HELP,
    )
    gone = message_deleted(
        ts=reply_ts, thread_ts=root, before="on the reports page", user="UCUST", channel=HELP
    )
    for event in (edit, gone):
        assert (await world.dispatch(event)).status == 200
        await world.settle()
    staff = [m.get("text") or "" for m in world.fake.thread("C_SUPPORT", world.card()["ts"])]
    assert any("edited" in t and "Chrome only" in t and "before" in t for t in staff)
    assert any("deleted a message" in t and "reports page" in t for t in staff)
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        first = (await uow.messages.messages_of(conv.id, ["inbound"]))[0]
    assert first.text == "Export button missing (Chrome only)"
    assert (first.meta or {})["edits"][0]["text"] == "Export button missing"


async def test_files_go_both_ways(make_world) -> None:
    world = await _world(make_world)
    shot = world.fake.add_file("error.png", b"\x89PNG screenshot", "image/png")
    request, root = customer_message(world.fake, "This error shows up", files=[shot])
    await world.dispatch(request)
    await world.settle()
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        first = (await uow.messages.messages_of(conv.id, ["inbound"]))[0]
        files = [(a.filename, a.data) for a in await uow.messages.attachments_of(first.id)]
    assert files == [("error.png", b"\x89PNG screenshot")]
    guide = world.fake.add_file("fix.pdf", b"%PDF fix", "application/pdf")
    card = world.card()
    await world.dispatch(message_event("!reply Follow this guide", thread_ts=card["ts"], files=[guide]))
    await world.settle()
    await world.settle()
    uploads = [c.args for c in world.fake.called("files.completeUploadExternal")]
    into_help = [u for u in uploads if u.get("channel_id") == HELP or u.get("channel") == HELP]
    assert into_help and str(into_help[-1].get("thread_ts")) == root


async def test_csat_reaches_the_customers_thread_and_the_answer_is_recorded(make_world) -> None:
    world = await make_world(
        INTAKE, extra=HELP_INBOX + '\n[inboxes.help.csat]\nquestion = "How did we do? Reply 1-5."\n'
    )
    world.fake.add_user("UCUST", "Carla Customer", "carla@customer.example")
    world.fake.add_channel(HELP, "help")
    request, root = customer_message(world.fake, "Export is broken")
    await world.dispatch(request)
    await world.settle()
    await world.dispatch(message_event("!close", thread_ts=world.card()["ts"]))
    await world.settle()
    await world.settle()
    asked = [m for m in world.fake.thread(HELP, root) if "How did we do?" in (m.get("text") or "")]
    assert len(asked) == 1
    answer, _ = customer_message(world.fake, "4 - quick fix", thread_ts=root)
    await world.dispatch(answer)
    await world.settle()
    async with world.app.store.transaction() as uow:
        ratings = (await uow.session.execute(select(CsatRating))).scalars().all()
        assert [r.rating for r in ratings] == [4]
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None and conv.status == "closed"  # answered without reopening
    staff = [m.get("text") or "" for m in world.fake.thread("C_SUPPORT", world.card()["ts"])]
    assert any("rated this conversation 4/5" in t for t in staff)


async def test_a_slack_connect_organisation_is_shown_by_its_name_asked_once(make_world) -> None:
    world = await _world(make_world)
    world.fake.teams["TGLOBEX"] = {"id": "TGLOBEX", "name": "Globex", "domain": "globex"}
    request, root = customer_message(world.fake, "Our SSO login fails", user_team="TGLOBEX")
    await world.dispatch(request)
    await world.settle()
    assert "Carla Customer (UCUST) · org Globex" in str(world.card()["blocks"][0])
    follow, _ = customer_message(world.fake, "Still failing", thread_ts=root, user_team="TGLOBEX")
    await world.dispatch(follow)
    await world.settle()
    assert "org Globex" in str(world.card()["blocks"][0])
    asked = [c.args.get("team") for c in world.fake.called("team.info")]
    assert asked == ["TGLOBEX"]  # kept, not asked again
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(1)
        assert conv is not None
        stored = [(m.meta or {}).get("account") for m in await uow.messages.messages_of(conv.id, ["inbound"])]
    assert stored == ["Globex", "Globex"]
    assert world.fake.refusals == []


async def test_without_team_read_the_organisation_is_shown_by_its_id_said_once(make_world, caplog) -> None:
    world = await _world(make_world)
    world.fake.teams["TGLOBEX"] = {"id": "TGLOBEX", "name": "Globex", "domain": "globex"}
    world.fake.scopes = world.fake.scopes.replace(",team:read", "")
    for n in range(2):
        request, _ = customer_message(world.fake, f"Problem {n}", user_team="TGLOBEX")
        await world.dispatch(request)
        await world.settle()
    assert "Carla Customer (UCUST) · org TGLOBEX" in str(world.card()["blocks"][0])  # the card still goes out
    said = [r for r in caplog.records if r.getMessage().startswith("team.info failed")]
    assert len(said) == 1 and getattr(said[0], "error", None) == "missing_scope"
    assert [r.error for r in world.fake.refusals] == ["missing_scope"]
