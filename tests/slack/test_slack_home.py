"""The personal queue on the App Home tab: published on opening, Claim from Home, refreshed on change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.slack.home_view import home_view
from bot.views import QueueItem, QueueView
from testkit.slack.payloads import app_home_opened, home_action, message_event, slash
from testkit.slack.read import card_fields
from testkit.slack.rules import home_view_error
from testkit.waiting import until


def headers(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def texts(view: dict) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]
        for b in view["blocks"]
        if b["type"] in ("section", "context")
    )


async def test_home_shows_the_queue_with_links_and_claims_from_there(world) -> None:
    await world.email("Desk broken", subject="Desk")
    await world.email("Chair late", subject="Chair", sender="bo@example.com", name="Bo")
    await world.settle()
    response = await world.dispatch(app_home_opened("UALICE"))
    assert response.status == 200
    await world.settle()
    view = world.fake.homes["UALICE"]
    assert headers(view) == ["Your support queue", "Mine (0)", "Unassigned (2)", "Breaching soon (0)"]
    first = world.fake.roots("C_SUPPORT")[0]
    assert f"<{world.fake.permalink('C_SUPPORT', first['ts'])}|#1 · Desk>" in texts(view)
    assert world.fake.refusals == []

    await world.dispatch(home_action(view, "tl_home_claim:unassigned:1"))
    await world.settle()
    assert card_fields(world.fake.last_update(first["ts"]))["Assignee"] == "Alice"
    view = world.fake.homes["UALICE"]
    assert headers(view)[1:3] == ["Mine (1)", "Unassigned (1)"]
    assert "You claimed #1." in texts(view)


async def test_an_open_home_follows_changes_within_seconds(world) -> None:
    world.slack.home.refresh_seconds = 0.05
    await world.email("Desk broken", subject="Desk")
    await world.settle()
    await world.dispatch(app_home_opened("UALICE"))
    await world.settle()
    card = world.card()
    await world.dispatch(message_event("!claim", thread_ts=card["ts"], user="UBOB"))
    await world.settle()
    await until(
        "Alice's Home shows #1 taken", lambda: "Unassigned (0)" in headers(world.fake.homes["UALICE"])
    )
    publishes = len(world.fake.called("views.publish"))
    await asyncio.sleep(0.3)  # several refresh rounds
    assert len(world.fake.called("views.publish")) == publishes  # nothing changed: nothing published


def test_a_long_queue_stays_within_the_home_view_limits() -> None:
    due = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = tuple(
        QueueItem(n, "Subject " * 40, "Customer " * 20, "urgent", None, due, "breached", "C1", f"1.{n}")
        for n in range(1, 80)
    )
    view = home_view(
        QueueView("Alice", items, items, items), {n: f"https://x/{n}" for n in range(80)}, "", ""
    )
    assert home_view_error(view) is None
    assert len(view["blocks"]) <= 100


async def test_the_slash_command_answers_the_queue_without_a_number(world) -> None:
    await world.email("Desk broken", subject="Desk")
    await world.settle()
    await world.dispatch(slash("queue", response_url=f"{world.fake.root}/response/q"))
    await world.settle()
    answer = world.fake.responses[-1]
    assert answer["response_type"] == "ephemeral" and "Unassigned (1):\n#1" in answer["text"]


async def test_breaching_soon_lists_the_conversations_due_within_the_hour(make_world) -> None:
    world = await make_world(extra='\n[inboxes.support.sla]\nfirst_response = "30m"\n')
    await world.email("Desk broken", subject="Desk")
    world.advance(2 * 3600)
    await world.email("Chair late", subject="Chair", sender="bo@example.com", name="Bo")
    await world.settle()
    await world.dispatch(app_home_opened("UALICE"))
    await world.settle()
    view = world.fake.homes["UALICE"]
    assert headers(view)[1:] == ["Mine (0)", "Unassigned (2)", "Breaching soon (2)"]
    start = next(
        i for i, b in enumerate(view["blocks"]) if b["type"] == "header" and "Breaching" in b["text"]["text"]
    )
    breaching = [b["text"]["text"] for b in view["blocks"][start + 1 :]]
    assert "#1 · Desk" in breaching[0] and "#2 · Chair" in breaching[1]  # the most overdue first
    assert (
        "due 05 Jan 09:30 UTC" in breaching[0]
        and view["blocks"][start + 1]["accessory"]["text"]["text"] == "Claim"
    )
    assert world.fake.refusals == []


async def opened_while_publish_fails(world, error: str, status: int, **failure: int) -> None:
    """One conversation waiting, then Alice opens her Home while ``views.publish`` fails."""
    await world.email("Desk broken", subject="Desk")
    await world.settle()
    world.fake.fail("views.publish", error, status=status, **failure)
    await world.dispatch(app_home_opened("UALICE"))
    await world.settle()
    assert "UALICE" not in world.fake.homes  # refused: the outbox row waits for its retry


@pytest.mark.parametrize(
    ("error", "status", "failure", "rounds"),
    [
        ("ratelimited", 429, {"retry_after": 30}, 1),  # after Retry-After
        ("service_unavailable", 503, {"times": 2}, 5),  # with backoff
    ],
)
async def test_a_failed_views_publish_is_retried_by_the_outbox(
    world, error: str, status: int, failure: dict[str, int], rounds: int
) -> None:
    await opened_while_publish_fails(world, error, status, **failure)
    for _ in range(rounds):
        world.advance(120)
        await world.drain()
    assert headers(world.fake.homes["UALICE"])[2] == "Unassigned (1)"
    assert len(world.fake.called("views.publish")) == 2 + failure.get("times", 1) - 1


async def test_a_newer_home_supersedes_one_still_waiting(world) -> None:
    await opened_while_publish_fails(world, "ratelimited", 429, retry_after=30)
    await world.email("Chair late", subject="Chair", sender="bo@example.com", name="Bo")
    await world.slack.home.publish("UALICE")  # the queue changed while the first view waits
    world.advance(31)
    await world.drain()
    assert headers(world.fake.homes["UALICE"])[2] == "Unassigned (2)"
    assert len(world.fake.called("views.publish")) == 2  # the older view never went out
