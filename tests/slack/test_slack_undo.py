"""The undo window in Slack: the Undo button, ``!undo``, and an edited ``!reply`` sending the new text."""

from __future__ import annotations

from testkit.slack.edit_events import message_changed, message_deleted
from testkit.slack.payloads import block_action, message_event


def _sent(world) -> list[str]:
    return [p.read_text() for p in sorted(world.outgoing.glob("*.eml"))]


def _undo_notice(world, card) -> dict:
    thread = world.fake.thread("C_SUPPORT", card["ts"])
    return next(m for m in thread if "sending in 10 s" in (m.get("text") or ""))


async def test_undo_button_keeps_the_reply_from_the_customer(make_world) -> None:
    world = await make_world(undo=10)
    number = await world.email("Please cancel my order.")
    await world.settle()
    card = world.card()
    await world.dispatch(message_event("!reply Cancelled, refund follows.", thread_ts=card["ts"]))
    await world.settle()
    notice = _undo_notice(world, card)
    actions = next(b for b in notice["blocks"] if b["type"] == "actions")
    button = actions["elements"][0]
    assert button["action_id"] == "tl_undo" and button["value"] == str(number)
    assert _sent(world) == []

    await world.dispatch(block_action({**button, "block_id": actions["block_id"]}, card=notice))
    await world.settle()
    world.advance(60)
    await world.settle()
    assert _sent(world) == []
    texts = [m.get("text") or "" for m in world.fake.thread("C_SUPPORT", card["ts"])]
    assert any("Reply undone by Alice" in t for t in texts)
    assert not any("Cancelled, refund follows." in t for t in texts)


async def test_window_passes_and_the_reply_goes_out(make_world) -> None:
    world = await make_world(undo=10)
    await world.email("Where is my parcel?")
    await world.settle()
    card = world.card()
    await world.dispatch(message_event("!reply It left today.", thread_ts=card["ts"]))
    await world.settle()
    assert _sent(world) == []
    world.advance(11)
    await world.settle()
    await world.settle()
    assert len(_sent(world)) == 1 and "It left today." in _sent(world)[0]
    echo = [m for m in world.fake.thread("C_SUPPORT", card["ts"]) if "sent to customer" in str(m["blocks"])]
    assert len(echo) == 1


async def test_editing_the_reply_within_the_window_sends_the_edited_text(make_world) -> None:
    world = await make_world(undo=10)
    await world.email("How much is the refund?")
    await world.settle()
    card = world.card()
    typed = message_event("!reply The refund is €50.", thread_ts=card["ts"], ts="1800000001.000100")
    await world.dispatch(typed)
    await world.settle()
    edit = message_changed(
        ts="1800000001.000100",
        thread_ts=card["ts"],
        before="!reply The refund is €50.",
        after="!reply The refund is €55 & shipping.",
    )
    assert (await world.dispatch(edit)).status == 200
    await world.settle()
    world.advance(11)
    await world.settle()
    await world.settle()
    sent = _sent(world)
    assert len(sent) == 1 and "€55 & shipping" in sent[0] and "€50" not in sent[0]


async def test_edited_and_deleted_notes_follow_in_storage(make_world) -> None:
    world = await make_world(undo=10)
    number = await world.email("My invoice is wrong.")
    await world.settle()
    card = world.card()
    await world.dispatch(message_event("VAT missing", thread_ts=card["ts"], ts="1800000002.000100"))
    await world.dispatch(message_event("ask finance", thread_ts=card["ts"], ts="1800000002.000200"))
    await world.settle()
    edit = message_changed(
        ts="1800000002.000100", thread_ts=card["ts"], before="VAT missing", after="VAT 21% missing"
    )
    gone = message_deleted(ts="1800000002.000200", thread_ts=card["ts"], before="ask finance")
    bob_edit = message_changed(
        ts="1800000002.000100", thread_ts=card["ts"], before="VAT 21% missing", after="x", user="UBOB"
    )
    for request in (edit, gone, bob_edit):
        assert (await world.dispatch(request)).status == 200
        await world.settle()
    async with world.app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(number)
        assert conv is not None
        notes = [m.text for m in await uow.messages.messages_of(conv.id, ["note"])]
    assert notes == ["VAT 21% missing"]
