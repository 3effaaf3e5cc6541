"""IMAP helpers for ``ImapWorker``: the cursor format, one IDLE wait, announced mail, closing quietly."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

from imapclient import IMAPClient

__all__ = [
    "ImapCursor",
    "awaited",
    "close_quietly",
    "format_cursor",
    "idle_until_exists",
    "parse_cursor",
    "take_announced",
]

T = TypeVar("T")


class ImapCursor(NamedTuple):
    """A folder's sync position: UIDVALIDITY, the last UID read, and dates that bound a resync.

    ``arrived`` is the INTERNALDATE of the last message read (the horizon of a later resync);
    ``resync_before`` is set while a resync after a UIDVALIDITY change runs: mail that arrived
    before it is stored if new, but never answered automatically.
    """

    validity: int
    last_uid: int
    arrived: datetime | None = None
    resync_before: datetime | None = None


def parse_cursor(value: str | None) -> ImapCursor | None:
    """``"UIDVALIDITY:LASTUID[:ARRIVED[:RESYNC_BEFORE]]"`` (dates as Unix seconds) → ``ImapCursor``;
    None when missing or malformed."""
    if not value:
        return None
    parts = value.split(":")
    try:
        numbers = [int(part) if part else None for part in parts]
    except ValueError:
        return None
    if len(numbers) < 2 or len(numbers) > 4 or numbers[0] is None or numbers[1] is None:
        return None
    dates = [datetime.fromtimestamp(n, UTC) if n is not None else None for n in numbers[2:]]
    return ImapCursor(numbers[0], numbers[1], *dates)


def format_cursor(
    validity: int, last_uid: int, arrived: datetime | None = None, resync_before: datetime | None = None
) -> str:
    """The stored form of an ``ImapCursor`` (see ``parse_cursor``); the dates are left out when unknown."""
    value = f"{validity}:{last_uid}"
    if resync_before is not None:
        return f"{value}:{_seconds(arrived)}:{_seconds(resync_before)}"
    return f"{value}:{_seconds(arrived)}" if arrived is not None else value


def _seconds(moment: datetime | None) -> str:
    return "" if moment is None else str(int(moment.timestamp()))


def idle_until_exists(client: IMAPClient, stop: threading.Event, renew_seconds: float) -> float | None:
    """IDLE until an EXISTS arrives (return ``time.perf_counter()`` of its arrival), ``renew_seconds``
    pass, or ``stop`` is set (return None). Checks ``stop`` at least once a second.

    Raises ``ConnectionError`` when the socket keeps reporting data but none comes: the server hung up.
    """
    client.idle()
    deadline = time.monotonic() + renew_seconds
    empty_wakeups = 0
    arrived: float | None = None
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        wait = min(1.0, remaining)
        began = time.monotonic()
        responses = client.idle_check(timeout=wait)
        if any(isinstance(r, tuple) and len(r) >= 2 and r[1] == b"EXISTS" for r in responses):
            arrived = time.perf_counter()
            break
        if not responses and time.monotonic() - began < wait / 10:
            empty_wakeups += 1
            if empty_wakeups >= 3:
                raise ConnectionError("IMAP server closed the connection during IDLE")
        else:
            empty_wakeups = 0
    client.idle_done()
    return arrived


def take_announced(client: IMAPClient) -> bool:
    """True when the server announced new mail (an untagged EXISTS) since the last call; forget it.

    A server reports mail that arrives while another command runs (a long FETCH, a SEARCH) as
    an EXISTS in that command's response; imaplib keeps such untagged responses aside, and the
    server does not repeat them at the next IDLE (RFC 3501 §7.3.1, RFC 2177). So the worker
    asks here after each SEARCH instead of waiting for an IDLE notice that will not come.
    """
    return bool(client._imap.untagged_responses.pop("EXISTS", None))


async def awaited(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``: makes any awaitable a coroutine for ``run_coroutine_threadsafe``."""
    return await awaitable


def close_quietly(client: IMAPClient) -> None:
    """Log out, or at least close the socket; never raises."""
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
