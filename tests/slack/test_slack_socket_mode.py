"""Socket Mode against the fake: connect through apps.connections.open, ack envelopes, drop redeliveries."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select

from storage.models import Message
from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import event_callback
from testkit.waiting import until


def acked(fake: FakeSlack, envelope_id: str) -> bool:
    """True once the client acknowledged ``envelope_id``."""
    return any(a.get("envelope_id") == envelope_id for a in fake.socket_acks)


async def test_socket_mode_acks_and_dedupes_redeliveries(make_world) -> None:
    world = await make_world('app_token = "xapp-test"', mode="socket")
    number = await world.email("hello over the socket")
    await world.settle()
    card = world.card()
    await world.slack.start()
    await until("socket connected", lambda: bool(world.fake.sockets))
    assert world.fake.called("apps.connections.open")

    await world.fake.push(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "team_id": "T1",
                "channel_id": "C_SUPPORT",
                "user_id": "UALICE",
                "user_name": "alice",
                "command": "/inbox",
                "text": f"claim #{number}",
                "api_app_id": "A1",
                "response_url": f"{world.fake.root}/response/s",
                "trigger_id": "t1",
            },
        }
    )
    await until("slash ack", lambda: any(a.get("envelope_id") == "env-1" for a in world.fake.socket_acks))
    await until("ephemeral answer", lambda: bool(world.fake.responses))
    assert world.fake.responses[-1]["text"] == f"You claimed #{number}."

    event = event_callback(
        {
            "type": "message",
            "channel": "C_SUPPORT",
            "user": "UALICE",
            "text": "socket note",
            "ts": "1800000001.000001",
            "thread_ts": card["ts"],
        },
        event_id="EvSOCK1",
    )
    for attempt, envelope_id in enumerate(("env-2", "env-3")):
        await world.fake.push(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": event,
                "retry_attempt": attempt,
                "retry_reason": "timeout" if attempt else "",
                "accepts_response_payload": False,
            }
        )
        await until(f"ack of {envelope_id}", partial(acked, world.fake, envelope_id))
    await world.settle()
    async with world.app.store.transaction() as uow:
        notes = (
            (await uow.session.execute(select(Message.text).where(Message.kind == "note"))).scalars().all()
        )
    assert list(notes) == ["socket note"]
