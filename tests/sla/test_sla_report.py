"""Reports: percentiles, SLA compliance, per-agent (audit trail) and per-label numbers; the CLI formats."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.reports.report import AGENT_ACTIONS, build_report, percentile, render
from testkit.app import started_app
from testkit.sla import known_day, sla_settings
from threadline.cli import main

SINCE = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
UNTIL = datetime(2026, 1, 6, 0, 0, tzinfo=UTC)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.0 and percentile(values, 90) == 9.0


async def test_report_numbers_for_a_known_data_set(tmp_path: Path, clock: ManualClock) -> None:
    app = await started_app(sla_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").settings(), clock)
    await known_day(app, clock)
    async with app.store.transaction() as uow:
        report = await build_report(uow, app.settings, SINCE, UNTIL)
        only_sales = await build_report(uow, app.settings, SINCE, UNTIL, "sales")
    await app.stop()
    assert report.volume == [
        {"inbox": "sales", "channel": "email", "opened": 1},
        {"inbox": "support", "channel": "email", "opened": 4},
    ]
    assert report.first_response["support"].p50 == 600.0 and report.first_response["support"].count == 1
    assert report.resolution["(all)"].p90 == 7200.0
    assert (report.sla_handled, report.sla_breached, report.sla_compliance) == (2, 1, 50.0)
    assert report.agents["Alice Martin"]["replied"] == 1 and report.agents["Alice Martin"]["claimed"] == 2
    assert report.agents["Alice Martin"]["closed"] == 1 and report.agents["Bob Stone"]["claimed"] == 1
    assert report.labels == [{"label": "refund", "opened": 2}]
    assert only_sales.volume == [{"inbox": "sales", "channel": "email", "opened": 1}]
    assert only_sales.sla_compliance is None  # sales has no SLA

    table = render(report, "table")
    assert "SLA compliance: 50 % (1 breached of 2)" in table
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert ["sla", "(all)", "compliance_percent", "50.0"] in rows
    assert json.loads(render(report, "json"))["sla_compliance"] == 50.0


def test_report_and_digest_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path}/t.db"
    config = tmp_path / "threadline.toml"
    config.write_text(sla_settings(db, tmp_path / "out").toml())

    async def seed() -> None:
        clock = ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
        app = await started_app(sla_settings(db, tmp_path / "out").settings(), clock)
        await known_day(app, clock)
        await app.stop()

    asyncio.run(seed())
    assert main(["--config", str(config), "report", "--since", "52w", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sla_compliance"] == 50.0 and data["labels"] == [{"label": "refund", "opened": 2}]
    assert main(["--config", str(config), "report", "--since", "52w", "--inbox", "nope"]) == 1
    assert "no inbox 'nope'" in capsys.readouterr().err
    assert main(["--config", str(config), "digest", "send", "daily"]) == 0
    assert "open 2 · unassigned 1 · snoozed 1 · breached 1" in capsys.readouterr().out
    assert main(["--config", str(config), "digest", "send", "weekly"]) == 1


def test_report_table_columns_line_up_with_human_durations() -> None:
    from bot.reports.report import Report, Timing

    report = Report(
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 1, 8, tzinfo=UTC),
        inbox=None,
        volume=[{"inbox": "support", "channel": "email", "opened": 12}],
        first_response={"support": Timing(p50=32.0, p90=150.0, count=3)},
        resolution={"support": Timing(p50=5400.0, p90=200_000.0, count=2)},
        sla_handled=0,
        sla_breached=0,
        sla_compliance=None,
        agents={"Alice Martin": dict.fromkeys(AGENT_ACTIONS, 1), "Bo": dict.fromkeys(AGENT_ACTIONS, 12)},
        labels=[],
        csat={},
    )
    table = render(report, "table").splitlines()
    assert "  support  32 s  2 min              3" in table  # seconds and minutes, not "0.0 h"
    assert any(line.startswith("  support  1 h 30 min  2 d 7 h") for line in table)
    agents = table[table.index("Agents") + 1 : table.index("Agents") + 4]
    assert len({len(line) for line in agents}) == 1  # every row as wide: the columns line up
