"""The terminal saves what it cannot show: attachments and digest charts become files it names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.local import LocalSurface
from adapters.local.render import render_card
from bot.ports import ThreadRef
from bot.views import AttachmentView, CardView, DigestView, PostView
from testkit.views import card_view

WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _card() -> CardView:
    return card_view(number=7, customer="Jane", subject="Desk")


async def test_attachments_are_saved_under_the_conversation_with_safe_names(tmp_path: Path) -> None:
    shown: list[str] = []
    surface = LocalSurface(shown.append, files=tmp_path / "files")
    ref: ThreadRef = await surface.create_thread("support", _card())
    photo = AttachmentView("../../evil/leg.jpg", "image/jpeg", 4, b"\xff\xd8\xff\xe0")
    dots = AttachmentView("..", "application/octet-stream", 1, b"x")
    await surface.post(ref, PostView("inbound", "Jane", "see photo", WHEN, True, (photo, dots), "email"))
    saved = tmp_path / "files" / "7" / "leg.jpg"
    assert saved.read_bytes() == b"\xff\xd8\xff\xe0"
    assert (tmp_path / "files" / "7" / "file").read_bytes() == b"x"
    assert not (tmp_path / "evil").exists()
    assert any(f"saved to {saved}" in line for line in shown)


async def test_a_digest_chart_is_saved_to_a_file_the_terminal_names(tmp_path: Path) -> None:
    shown: list[str] = []
    surface = LocalSurface(shown.append, zone=ZoneInfo("Europe/Amsterdam"), files=tmp_path)
    digest = DigestView(
        name="daily",
        title="Daily digest",
        period_start=WHEN.replace(day=1),
        period_end=WHEN,
        timezone="UTC",
        inboxes=("support",),
        open=1,
        unassigned=1,
        snoozed=0,
        breached=0,
        opened=1,
        closed=0,
        median_first_response=None,
        median_resolution=None,
        sla_compliance=None,
        oldest=(),
        by_assignee=(),
        by_label=(),
        chart_png=b"\x89PNG fake",
    )
    await surface.post_digest("digest", digest)
    chart = tmp_path / "digests" / "daily-2026-12-02-1030.png"  # period end, in the display zone
    assert chart.read_bytes() == b"\x89PNG fake"
    assert any(f"saved to {chart}" in line for line in shown)
    assert any("Tue 01 Dec 10:30 CET → Wed 02 Dec 10:30 CET" in line for line in shown)


def test_the_terminal_card_names_the_customers_organisation() -> None:
    shown = render_card(replace(_card(), account="TCUSTORG"), ZoneInfo("UTC"))
    assert "jane@example.org (org TCUSTORG)" in shown.splitlines()[0]
    assert "(org" not in render_card(_card(), ZoneInfo("UTC"))
