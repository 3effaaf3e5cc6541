"""The 24-hour window starts at Meta's message timestamp, not when Threadline stored the message."""

from __future__ import annotations

from datetime import timedelta

from testkit.whatsapp.payloads import envelope, message
from testkit.whatsapp.rig import WhatsAppRig


async def test_a_late_delivered_message_does_not_reopen_the_window_longer(rig: WhatsAppRig) -> None:
    local, clock = rig.app.local, rig.clock
    assert local is not None
    wrote = clock.now() - timedelta(hours=23, minutes=30)  # webhook delayed (an outage on our side)
    await rig.deliver(envelope(messages=[message("text", {"body": "still there?"}, when=wrote)]))
    [thread] = local.threads.values()
    clock.advance(timedelta(hours=1))
    refused = await local.type_line(f"#{thread.number} !reply yes!", "alice")
    assert not refused.ok
    assert "window closed 30 min ago" in refused.text and "last wrote 24 h ago" in refused.text
    await rig.settle()
    assert rig.graph.sent == [] and rig.graph.refusals == []


async def test_an_older_message_delivered_after_a_newer_one_keeps_the_newer_time(rig: WhatsAppRig) -> None:
    local, clock = rig.app.local, rig.clock
    assert local is not None
    now = clock.now()
    await rig.deliver(envelope(messages=[message("text", {"body": "second"}, when=now)]))
    await rig.deliver(envelope(messages=[message("text", {"body": "first"}, when=now - timedelta(hours=20))]))
    [thread] = local.threads.values()
    clock.advance(timedelta(hours=23))
    assert (await local.type_line(f"#{thread.number} !reply answer", "alice")).ok
    await rig.settle()
    assert [m["text"]["body"] for m in rig.graph.sent] == ["answer"]


async def test_a_timestamp_from_the_future_counts_as_now(rig: WhatsAppRig) -> None:
    local, clock = rig.app.local, rig.clock
    assert local is not None
    future = clock.now() + timedelta(hours=5)
    await rig.deliver(envelope(messages=[message("text", {"body": "from a skewed clock"}, when=future)]))
    [thread] = local.threads.values()
    clock.advance(timedelta(hours=24, minutes=30))
    refused = await local.type_line(f"#{thread.number} !reply hi", "alice")
    assert not refused.ok and "window closed 30 min ago" in refused.text
