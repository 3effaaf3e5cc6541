"""``threadline doctor`` for WhatsApp against the fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.whatsapp.doctor import whatsapp_checkup
from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports.doctor import CheckResult
from testkit.whatsapp.graph import PHONE_NUMBER_ID, SECOND_NUMBER_ID, TOKEN, WABA_ID, FakeGraph
from testkit.workers import free_port


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    """A running fake Graph API."""
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


def _settings(url: str, **more: object) -> WhatsAppSettings:
    base = {
        "inbox": "whatsapp",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": TOKEN,
        "app_secret": "a",
        "verify_token": "v",
        "graph_base_url": url,
    }
    return WhatsAppSettings.model_validate(base | more)


async def _run(settings: WhatsAppSettings) -> list[CheckResult]:
    return [result async for result in whatsapp_checkup(settings)]


async def test_a_good_setup_checks_each_number_and_the_subscription(graph: FakeGraph) -> None:
    settings = _settings(graph.url, waba_id=WABA_ID, numbers={SECOND_NUMBER_ID: "whatsapp-2"})
    results = await _run(settings)
    assert [r.ok for r in results] == [True, True, True]
    assert (
        results[0].what == f"access token and phone number id {PHONE_NUMBER_ID}: +1 555-0100 (Acme Support)"
    )
    assert SECOND_NUMBER_ID in results[1].what
    assert results[2].what == "app subscribed to the business account's webhooks"


async def test_without_waba_id_the_subscription_check_says_it_was_skipped(graph: FakeGraph) -> None:
    results = await _run(_settings(graph.url))
    assert results[1].ok and "skipped, set channels.whatsapp.waba_id" in results[1].what


async def test_a_wrong_token_is_refused_and_never_shown(graph: FakeGraph) -> None:
    results = await _run(_settings(graph.url, access_token="EAAG-wrong-token"))
    assert len(results) == 1 and not results[0].ok
    assert "system-user token" in results[0].fix and "EAAG" not in results[0].fix


async def test_a_wrong_phone_number_id_names_the_key(graph: FakeGraph) -> None:
    results = await _run(_settings(graph.url, phone_number_id="15550100"))
    assert (
        not results[0].ok
        and "channels.whatsapp.phone_number_id must be the phone number id" in results[0].fix
    )


async def test_an_unsubscribed_app_is_told_how_to_subscribe(graph: FakeGraph) -> None:
    graph.subscribed = False
    results = await _run(_settings(graph.url, waba_id=WABA_ID))
    assert not results[1].ok and f"POST /{WABA_ID}/subscribed_apps" in results[1].fix


async def test_an_unreachable_graph_api_is_a_failed_check() -> None:
    results = await _run(_settings(f"http://127.0.0.1:{free_port()}"))
    assert len(results) == 1 and results[0].fix.startswith("cannot reach 127.0.0.1:")
