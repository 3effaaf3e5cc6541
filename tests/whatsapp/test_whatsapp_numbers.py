"""Several WhatsApp numbers on one app: each feeds its own inbox and replies go out from it; a webhook
for a number Threadline does not serve is logged and counted, not silently dropped."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.runtime import metrics
from testkit.whatsapp.graph import PHONE_NUMBER_ID, SECOND_NUMBER_ID, FakeGraph
from testkit.whatsapp.payloads import envelope, message, status
from testkit.whatsapp.rig import build_rig

SALES = """
[inboxes.sales]
name = "Sales"
channel = "whatsapp"
address = "+31 20 555 0200"
surface = "local"
chat_channel = "sales"
timezone = "Europe/Amsterdam"
"""


class _Counts(metrics.NullRecorder):
    def __init__(self) -> None:
        self.counts: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def inc(self, metric: metrics.Metric, labels: Mapping[str, str], amount: float = 1.0) -> None:
        key = (metric.name, tuple(sorted(labels.items())))
        self.counts[key] = self.counts.get(key, 0.0) + amount


@pytest.fixture
def counts() -> Iterator[_Counts]:
    recorder = _Counts()
    metrics.install(recorder)
    yield recorder
    metrics.install(None)


async def test_each_number_feeds_its_inbox_and_replies_from_it(
    tmp_path: Path, graph: FakeGraph, clock: ManualClock
) -> None:
    rig = await build_rig(
        tmp_path, graph, clock, more_config=SALES, extra=f'numbers = {{ "{SECOND_NUMBER_ID}" = "sales" }}'
    )
    try:
        local = rig.app.local
        assert local is not None
        now = clock.now()
        await rig.deliver(envelope(messages=[message("text", {"body": "support question"}, when=now)]))
        await rig.deliver(
            envelope(
                messages=[message("text", {"body": "I want to buy"}, when=now)],
                phone_number_id=SECOND_NUMBER_ID,
            )
        )
        threads = {t.texts("inbound")[0]: t for t in local.threads.values()}
        support, sales = threads["support question"], threads["I want to buy"]
        assert support.chat_channel == "wa" and sales.chat_channel == "sales"
        assert (await local.type_line(f"#{sales.number} !reply here is our price list", "alice")).ok
        assert (await local.type_line(f"#{support.number} !reply let me check", "alice")).ok
        await rig.settle()
        sent = {m["text"]["body"]: number for m, number in zip(graph.sent, graph.sent_from, strict=True)}
        assert sent == {"here is our price list": SECOND_NUMBER_ID, "let me check": PHONE_NUMBER_ID}
    finally:
        await rig.close()


async def test_an_unknown_number_is_logged_and_counted(
    rig, counts: _Counts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    now = rig.clock.now()
    other = envelope(
        messages=[message("text", {"body": "x"}, when=now)],
        statuses=[status("wamid.OUT9", "read", when=now)],
        phone_number_id="999",
    )
    assert await rig.post(other) == 200  # Meta would redeliver for days; retrying cannot help
    await rig.settle()
    assert rig.app.local is not None and not rig.app.local.threads
    records = [r for r in caplog.records if "phone number Threadline does not serve" in r.getMessage()]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert getattr(records[0], "phone_number_id", None) == "999"
    assert getattr(records[0], "messages", None) == 1 and getattr(records[0], "statuses", None) == 1
    unrouted = "threadline_webhooks_unrouted_total"
    assert counts.counts[(unrouted, (("channel", "whatsapp"), ("kind", "message")))] == 1
    assert counts.counts[(unrouted, (("channel", "whatsapp"), ("kind", "status")))] == 1


def test_numbers_must_name_distinct_known_inboxes(tmp_path: Path) -> None:
    from bot.config import ConfigError
    from testkit.settings import make_settings
    from testkit.whatsapp.rig import whatsapp_config

    def load(extra: str, more: str = SALES) -> None:
        make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path, more + whatsapp_config("http://x", extra=extra))

    with pytest.raises(ConfigError, match=re.escape("channels.whatsapp.numbers.2077: no inbox 'nope'")):
        load('numbers = { "2077" = "nope" }')
    with pytest.raises(ConfigError, match="already fed by"):
        load('numbers = { "2077" = "whatsapp" }')
    with pytest.raises(ConfigError, match="is the main phone_number_id"):
        load(f'numbers = {{ "{PHONE_NUMBER_ID}" = "sales" }}')
