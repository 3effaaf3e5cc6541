"""The Graph API down for a while: the team is told once, replies wait and go out once when it is back."""

from __future__ import annotations

from datetime import timedelta

from adapters.local.render import render_post
from testkit.whatsapp.payloads import envelope, message
from testkit.whatsapp.rig import WhatsAppRig


async def test_graph_api_outage_is_announced_once_and_nothing_is_lost(rig: WhatsAppRig) -> None:
    local, graph, clock = rig.app.local, rig.graph, rig.clock
    assert local is not None
    customers = ["31611110001", "31611110002", "31611110003"]
    for n, wa_id in enumerate(customers):
        await rig.deliver(
            envelope(
                messages=[message("text", {"body": f"question {n}"}, wa_id=wa_id, when=clock.now())],
                wa_id=wa_id,
                name=f"Customer {n}",
            )
        )
    numbers = sorted(t.number for t in local.threads.values())
    graph.fail(2, times=8)  # Meta answers 503 for a while
    for number in numbers:
        assert (await local.type_line(f"#{number} !reply We are on it", "alice")).ok
    for _ in range(15):
        await rig.settle()
        clock.advance(timedelta(seconds=70))
    await rig.settle()
    notices = [(t.number, text) for t in local.threads.values() for text in t.texts("notice")]
    assert len([n for n, text in notices if "is failing" in text]) == 1, notices
    shown = [
        render_post(t.number, p, local.zone)
        for t in local.threads.values()
        for p in t.posts
        if p.kind == "notice"
    ]
    assert not [line for line in shown if "⚠ ⚠" in line or ".." in line], shown  # surfaces add the sign
    assert len([n for n, text in notices if "works again" in text]) == 1, notices
    replies = [body["to"] for body in graph.sent if body.get("type") == "text"]
    assert sorted(replies) == sorted(customers)  # each reply reached its customer exactly once
    assert all(t.texts("outbound") == ["We are on it"] for t in local.threads.values())
