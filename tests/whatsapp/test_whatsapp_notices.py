"""Failure notices say which reply failed, why, and only what can help; no doubled marks or stops."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from adapters.local.render import render_post
from testkit.whatsapp.payloads import envelope, message, status
from testkit.whatsapp.rig import WhatsAppRig


async def _thread_with_reply(rig: WhatsAppRig, text: str):
    local = rig.app.local
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "hello?"}, when=rig.clock.now())]))
    [thread] = local.threads.values()
    assert (await local.type_line(f"#{thread.number} !reply {text}", "alice")).ok
    await rig.settle()
    return thread


def _shown(thread) -> str:
    """The last notice as the terminal surface shows it."""
    post = [p for p in thread.posts if p.kind == "notice"][-1]
    return render_post(thread.number, post, ZoneInfo("UTC"))


def _clean(shown: str) -> None:
    assert "⚠ ⚠" not in shown and ".." not in shown and ". ." not in shown, shown


async def test_undeliverable_names_the_reply_and_does_not_offer_retry(rig: WhatsAppRig) -> None:
    thread = await _thread_with_reply(rig, "your parcel ships Monday")
    undeliverable = {
        "code": 131026,
        "title": "Message undeliverable",
        "error_data": {"details": "The recipient is not a valid WhatsApp user."},
    }
    await rig.deliver(
        envelope(statuses=[status("wamid.OUT1", "failed", when=rig.clock.now(), errors=[undeliverable])])
    )
    shown = _shown(thread)
    assert "“your parcel ships Monday”" in shown and "131026" in shown
    assert "!retry" not in shown and "will not help" in shown
    _clean(shown)


async def test_closed_window_suggests_the_template_command_not_retry(rig: WhatsAppRig) -> None:
    rig.graph.fail(131047)
    thread = await _thread_with_reply(rig, "are you still there")
    shown = _shown(thread)
    assert "“are you still there”" in shown and "131047" in shown
    assert "!template NAME" in shown and "follow_up, order_update" in shown
    assert "!retry" not in shown and "(template NAME)" not in shown
    _clean(shown)
    # the same, reported later by a status webhook
    assert rig.app.local is not None
    assert (await rig.app.local.type_line(f"#{thread.number} !reply second try", "alice")).ok
    await rig.settle()
    window = {
        "code": 131047,
        "title": "Re-engagement message",
        "error_data": {"details": "More than 24 hours."},
    }
    await rig.deliver(
        envelope(statuses=[status("wamid.OUT1", "failed", when=rig.clock.now(), errors=[window])])
    )
    shown = _shown(thread)
    assert "“second try”" in shown and "!template NAME" in shown and "!retry" not in shown
    _clean(shown)


async def test_a_final_outage_failure_does_not_say_retrying(rig: WhatsAppRig) -> None:
    rig.graph.fail(2, times=30)  # Meta answers 503 longer than the outbox tries
    thread = await _thread_with_reply(rig, "on its way")
    for _ in range(12):
        rig.clock.advance(timedelta(minutes=11))
        await rig.settle()
    failed = [t for t in thread.texts("notice") if "was not delivered" in t]
    assert len(failed) == 1, thread.texts("notice")
    assert "retrying" not in failed[0] and "“on its way”" in failed[0] and "!retry" in failed[0]
    assert "gave up" in failed[0]
    _clean(_shown(thread))


async def test_a_token_problem_still_says_fix_then_retry(rig: WhatsAppRig) -> None:
    rig.graph.fail(190)
    thread = await _thread_with_reply(rig, "hello")
    shown = _shown(thread)
    assert "WHATSAPP_ACCESS_TOKEN" in shown and "then type !retry" in shown
    _clean(shown)
