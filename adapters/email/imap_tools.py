"""IMAP helpers for ``ImapWorker``: the cursor format, one IDLE wait, announced mail, closing quietly."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable
from typing import TypeVar

from imapclient import IMAPClient

__all__ = [
    "awaited",
    "close_quietly",
    "format_cursor",
    "idle_until_exists",
    "parse_cursor",
    "take_announced",
]

T = TypeVar("T")


def parse_cursor(value: str | None) -> tuple[int, int] | None:
    """``"UIDVALIDITY:LASTUID"`` → (uidvalidity, last_uid); None when missing or malformed."""
    if not value:
        return None
    validity, _, last = value.partition(":")
    try:
        return int(validity), int(last)
    except ValueError:
        return None


def format_cursor(uidvalidity: int, last_uid: int) -> str:
    """(uidvalidity, last_uid) → ``"UIDVALIDITY:LASTUID"``."""
    return f"{uidvalidity}:{last_uid}"


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
