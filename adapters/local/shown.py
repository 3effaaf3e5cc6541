"""What the terminal has shown, by outbox row: its answer to "was this already posted?".

Slack finds what an earlier attempt posted by the outbox id in a message's metadata, Discord by
the nonce; the terminal has nothing to ask, so it keeps its own record. Each card and post it
prints is written here as ``<row> <card|post> <what it returned>`` right after the print (one row
may deliver both: a new conversation's card and its first post), in the same step of the event
loop (nothing else runs in between), and handed to the kernel at once: a process killed after that
(before the outbox marked the row done) finds the row here when the row is retried after the
restart, and shows it once. A row is named by its outbox id and the time it was queued, so a record
kept across a new database (whose ids start again) never hides one of its rows. The file is kept
where ``[surfaces.local] shown_record`` says; without it, a post in flight at a crash may be shown
twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.views import DeliveryKey

__all__ = ["ShownRecord"]


def _row(key: DeliveryKey) -> str:
    """The outbox row as one word: its id and when it was queued."""
    return f"{key.outbox_id}@{key.queued_at.isoformat() if key.queued_at else ''}"


class ShownRecord:
    """The outbox rows this terminal has shown, and the id each got, read from and appended to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown: dict[tuple[str, str], str] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                row, what, answer = [*line.split(" ", 2), "", ""][:3]
                if row and what and answer:  # a line cut short by a crash is left out
                    self.shown[row, what] = answer
        self._file: TextIO | None = None  # opened at the first card or post shown

    def get(self, key: DeliveryKey, what: str) -> str | None:
        """What row ``key`` returned when its ``what`` (card, post) was shown, or None."""
        return self.shown.get((_row(key), what))

    def add(self, key: DeliveryKey, what: str, answer: str) -> None:
        """Row ``key``'s ``what`` was shown as ``answer``: in the kernel before this returns."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(f"{_row(key)} {what} {answer}\n")
        self._file.flush()  # in the kernel: a killed process loses nothing it wrote (no fsync needed)
        self.shown[_row(key), what] = answer

    def close(self) -> None:
        """Close the file (a later ``add`` opens it again)."""
        if self._file is not None:
            self._file.close()
            self._file = None
