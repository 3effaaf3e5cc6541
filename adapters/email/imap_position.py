"""Where an IMAP worker stands in its folder, and where it starts after (re)connecting.

A ``FolderPosition`` holds what the cursor carries besides the last UID: the INTERNALDATE of the
last mail read, a UIDVALIDITY resync in progress (mail older than its horizon is stored if new but
never answered automatically) and a failed ingest to read again from. It decides the start UID
when a folder is selected and which cursor value must be saved first; the worker saves it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from imapclient import IMAPClient

from adapters.email.imap_tools import ImapCursor, format_cursor
from adapters.email.settings import MailboxSettings
from bot.clock import Clock

__all__ = ["FolderPosition", "Start"]

log = logging.getLogger(__name__)
_RESYNC_FALLBACK = timedelta(days=1)  # resync horizon with neither a stored date nor ``since``
_RESYNC_MARGIN = timedelta(days=1)  # a resync reads mail down to a day before its horizon, no older

Start = tuple[int, str | None]
"""Where a session starts: the last UID already read, and the cursor value to save first (or None)."""


class FolderPosition:
    """The sync position of mailbox ``mailbox`` (``settings``) beyond the last UID, kept across sessions."""

    def __init__(self, mailbox: str, settings: MailboxSettings, clock: Clock) -> None:
        self.mailbox, self.settings, self.clock = mailbox, settings, clock
        self.arrived: datetime | None = None  # INTERNALDATE of the last message read
        self.resync_before: datetime | None = None  # set while a UIDVALIDITY resync runs
        self.resume_after: int | None = None  # the UID before a message whose ingest failed

    def cursor(self, validity: int, last: int) -> str:
        """The cursor after UID ``last``, with the last read mail's date and any resync in progress."""
        return format_cursor(validity, last, self.arrived, self.resync_before)

    def read(self, received: datetime) -> None:
        """A mail with INTERNALDATE ``received`` was read."""
        self.arrived = max(received, self.arrived) if self.arrived else received

    def too_old(self, received: datetime) -> bool:
        """Whether a resync passes this mail over (older than a day before its horizon)."""
        return self.resync_before is not None and received < self.resync_before - _RESYNC_MARGIN

    def resynced(self, received: datetime) -> bool:
        """Whether this mail is read again by a resync and must not be answered automatically."""
        return self.resync_before is not None and received < self.resync_before

    def start(self, client: IMAPClient, stored: ImapCursor | None, validity: int, uidnext: int) -> Start:
        """Where to start in the selected folder, given the stored cursor and the folder's state."""
        self.arrived = stored.arrived if stored is not None else None
        self.resync_before = None
        if stored is not None and stored.validity == validity:
            self.resync_before = stored.resync_before  # a resync a crash interrupted goes on
            resume, self.resume_after = self.resume_after, None
            if resume is not None and resume < stored.last_uid:  # a failed ingest left a message behind
                return resume, self.cursor(validity, resume)
            return stored.last_uid, None
        if uidnext <= 0:
            uidnext = max(client.search(["ALL"]) or [0]) + 1
        if stored is not None:
            return self._resync(client, stored, validity, uidnext)
        since = self.settings.since_delta()
        last = uidnext - 1
        if since is not None:
            recent = client.search(["SINCE", (self.clock.now() - since).date()])
            last = min(recent) - 1 if recent else last
        log.info(
            "imap first start",
            extra={"mailbox": self.mailbox, "since": self.settings.since, "from_uid": last + 1},
        )
        return last, format_cursor(validity, last)

    def _resync(self, client: IMAPClient, stored: ImapCursor, validity: int, uidnext: int) -> Start:
        """The folder was rebuilt (UIDVALIDITY changed): read it again from the last stored mail's date.

        The horizon is the INTERNALDATE of the last message read before (else the ``since``
        window, else a day). Mail that arrived up to a day before it is stored only if new (the
        core drops what it has by Message-ID) and is never answered automatically; older mail is
        not read at all. ``resync_before`` in the cursor keeps both promises across a crash in
        the middle of the resync.
        """
        since = self.settings.since_delta()
        horizon = stored.arrived or self.clock.now() - (since or _RESYNC_FALLBACK)
        # SEARCH SINCE compares dates in the server's time zone (RFC 3501 §6.4.4): a day early is safe
        found = client.search(["SINCE", (horizon - _RESYNC_MARGIN).date()])
        last = min(found) - 1 if found else uidnext - 1
        self.resync_before = horizon
        log.warning(
            "imap UIDVALIDITY changed; resyncing the folder from the last stored mail's date",
            extra={
                "mailbox": self.mailbox,
                "old": stored.validity,
                "new": validity,
                "horizon": horizon.isoformat(),
                "from_uid": last + 1,
            },
        )
        return last, self.cursor(validity, last)

    def resync_done(self, validity: int, last: int) -> str | None:
        """The folder was read to its end: the cursor to save if a resync just finished, else None."""
        if self.resync_before is None:
            return None
        self.resync_before = None
        log.info("imap resync finished", extra={"mailbox": self.mailbox, "last_uid": last})
        return self.cursor(validity, last)
