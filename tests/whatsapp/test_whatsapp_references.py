"""Reactions and quoted replies say which message they refer to."""

from __future__ import annotations

from testkit.whatsapp.payloads import envelope, message
from testkit.whatsapp.rig import WhatsAppRig


async def test_reactions_and_quotes_name_the_message(rig: WhatsAppRig) -> None:
    local, now = rig.app.local, rig.clock.now()
    assert local is not None
    await rig.deliver(
        envelope(messages=[message("text", {"body": "desk broken"}, when=now, wamid="wamid.IN-1")])
    )
    [thread] = local.threads.values()
    assert (await local.type_line(f"#{thread.number} !reply A new desk ships today.", "alice")).ok
    await rig.settle()
    assert len(rig.graph.sent) == 1
    await rig.deliver(
        envelope(
            messages=[
                message("reaction", {"message_id": "wamid.OUT1", "emoji": "👍"}, when=now),
                message("text", {"body": "which day?"}, when=now, context={"from": "x", "id": "wamid.OUT1"}),
                message("text", {"body": "I said"}, when=now, context={"from": "x", "id": "wamid.IN-1"}),
                message("reaction", {"message_id": "wamid.GONE", "emoji": "❤"}, when=now),
            ]
        )
    )
    assert thread.texts("inbound")[1:] == [
        "[reaction] 👍 to Alice Martin's “A new desk ships today.”",
        "↩ replying to Alice Martin's “A new desk ships today.”\nwhich day?",
        "↩ replying to Sofia Jansen's “desk broken”\nI said",
        "[reaction] ❤ to a message Threadline does not have",
    ]
