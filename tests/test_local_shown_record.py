"""The terminal shows a card or post once per outbox row, also when a retry follows a crash."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from adapters.local import LocalSurface, ShownRecord
from bot.views import CardView, DeliveryKey, PostView

CARD = CardView(7, "support", "email", "Sofia", "sofia@example.org", "Parcel", "open", None, (), "normal")
WHEN = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _post(outbox_id: int, *, retried: bool) -> PostView:
    key = DeliveryKey(outbox_id, retried=retried)
    return PostView("inbound", "Sofia", "Where is my parcel?", WHEN, from_customer=True, delivery=key)


async def _show_then_crash(record: Path, printed: list[str]) -> None:
    """A process shows the card (row 1) and a post (row 2), then dies before the outbox marks them done."""
    surface = LocalSurface(printed.append, shown=ShownRecord(record))
    ref = await surface.create_thread("support", replace(CARD, delivery=DeliveryKey(1)))
    await surface.post(ref, _post(2, retried=False))


async def test_a_retried_row_shown_before_the_crash_is_not_shown_again(tmp_path: Path) -> None:
    printed: list[str] = []
    await _show_then_crash(tmp_path / "shown.log", printed)
    before = len(printed)
    # the restarted process retries both rows (they were claimed before: ``retried``)
    again = LocalSurface(printed.append, shown=ShownRecord(tmp_path / "shown.log"))
    card = replace(CARD, delivery=DeliveryKey(1, retried=True))
    ref = await again.create_thread("support", card)
    assert await again.post(ref, _post(2, retried=True)) == "support/7/1"  # what the first attempt returned
    assert len(printed) == before  # nothing shown twice
    await again.post(ref, _post(3, retried=False))  # a new row is shown
    assert len(printed) == before + 1 and "Where is my parcel?" in printed[-1]


async def test_without_a_record_a_retried_row_is_shown_again(tmp_path: Path) -> None:
    printed: list[str] = []
    surface = LocalSurface(printed.append)
    ref = await surface.create_thread("support", CARD)
    await surface.post(ref, _post(2, retried=False))
    await LocalSurface(printed.append).post(ref, _post(2, retried=True))
    assert sum("Where is my parcel?" in line for line in printed) == 2


async def test_a_card_shown_before_the_crash_does_not_hide_its_first_post(tmp_path: Path) -> None:
    printed: list[str] = []
    first = LocalSurface(printed.append, shown=ShownRecord(tmp_path / "shown.log"))
    await first.create_thread("support", replace(CARD, delivery=DeliveryKey(1)))  # killed after the card
    again = LocalSurface(printed.append, shown=ShownRecord(tmp_path / "shown.log"))
    ref = await again.create_thread("support", replace(CARD, delivery=DeliveryKey(1, retried=True)))
    await again.post(ref, _post(1, retried=True))  # the same row delivers the first post
    assert sum("Where is my parcel?" in line for line in printed) == 1
    assert sum("Parcel" in line for line in printed) == 1  # the card once


def test_a_line_cut_short_by_a_crash_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "shown.log").write_text("4@ post support/7/1\n5@ post")
    record = ShownRecord(tmp_path / "shown.log")
    assert record.get(DeliveryKey(4), "post") == "support/7/1" and record.get(DeliveryKey(5), "post") is None


async def test_a_record_kept_across_a_new_database_hides_none_of_its_rows(tmp_path: Path) -> None:
    printed: list[str] = []
    old = DeliveryKey(2, queued_at=WHEN)
    first = LocalSurface(printed.append, shown=ShownRecord(tmp_path / "shown.log"))
    ref = await first.create_thread("support", CARD)
    await first.post(ref, replace(_post(2, retried=False), delivery=old))
    # a new database numbers its rows from 1 again: its retried row 2 was queued at another time
    again = LocalSurface(printed.append, shown=ShownRecord(tmp_path / "shown.log"))
    new = DeliveryKey(2, retried=True, queued_at=WHEN.replace(day=8))
    await again.post(ref, replace(_post(2, retried=True), delivery=new))
    assert sum("Where is my parcel?" in line for line in printed) == 2
