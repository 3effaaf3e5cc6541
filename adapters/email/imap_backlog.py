"""How far an IMAP backlog read (a long catch-up) is: logged at start and end, told to a progress callback."""

from __future__ import annotations

import logging
import time

from bot.ports.progress import ProgressCallback

__all__ = ["BacklogRead"]

log = logging.getLogger(__name__)
_LONG_BACKLOG = 1000  # a catch-up this long says so at warning level (the default): it takes a while


class BacklogRead:
    """One backlog read of ``total`` mails in ``mailbox``: logs its start and end, tells ``progress``;
    a warning first when it is long, as the default log level (warning) hides info lines."""

    def __init__(self, mailbox: str, total: int, progress: ProgressCallback | None) -> None:
        self.mailbox, self.total, self.progress = mailbox, total, progress
        self.done, self.started = 0, time.monotonic()
        if total >= _LONG_BACKLOG:
            log.warning(
                "imap reading %d mails from the backlog before new mail",
                total,
                extra={"mailbox": mailbox, "messages": total},
            )
        log.info("imap backlog read started", extra={"mailbox": mailbox, "messages": total})
        if progress is not None:
            progress(0, total)

    def read(self, count: int) -> None:
        """``count`` more messages are stored."""
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)
        if self.done >= self.total:
            seconds = max(time.monotonic() - self.started, 1e-6)
            log.info(
                "imap backlog read finished",
                extra={
                    "mailbox": self.mailbox,
                    "messages": self.done,
                    "seconds": round(seconds, 1),
                    "per_second": round(self.done / seconds, 1),
                },
            )
