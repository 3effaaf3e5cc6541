"""Fault injection for the crash-safety tests: ``THREADLINE_FAULT=point:N`` kills the process at a point.

``hit("after_commit")`` counts hits of that point and, at the Nth, ends the process
at once with ``os._exit(137)`` (what a SIGKILL looks like to the outside: no
``finally``, no flush, no goodbye). Several points may be armed:
``THREADLINE_FAULT=after_fetch:2,before_done:3``.

In production the variable is unset: ``hit`` is one dict lookup on an empty dict.
Points used by the code: ``after_fetch`` (IMAP message fetched, before ingest),
``after_commit`` (ingest committed), ``after_claim`` (outbox rows claimed),
``before_done`` and ``delivered_<kind>`` (a delivery reached the platform or the SMTP
server, not yet marked done; kinds ``send``, ``post``, ``card``, ``notice``), ``after_done`` (a
delivery marked done, the next not started), ``remirror_queued`` (a healed scope's re-mirror
committed to the outbox, nothing of it posted yet), ``thread_created`` (a card was posted, its
thread not yet stored) and ``whatsapp_part_sent`` (one part of a long WhatsApp reply went out
and was recorded, the next not yet), ``discord_dm_received`` (a DM to the bot came from the
gateway, not yet journaled).
"""

from __future__ import annotations

import os
import sys

__all__ = ["armed", "hit"]

_EXIT_CODE = 137


def _parse(spec: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for part in spec.split(","):
        name, _, count = part.strip().partition(":")
        if name:
            points[name] = int(count or "1")
    return points


_ARMED: dict[str, int] = _parse(os.environ.get("THREADLINE_FAULT", ""))
_HITS: dict[str, int] = {}


def armed() -> bool:
    """True when some fault point is armed in this process."""
    return bool(_ARMED)


def hit(point: str) -> None:
    """Pass fault point ``point``; kill the process when it is armed and this is its Nth hit."""
    if not _ARMED or point not in _ARMED:
        return
    _HITS[point] = _HITS.get(point, 0) + 1
    if _HITS[point] >= _ARMED[point]:
        sys.stderr.write(f"THREADLINE_FAULT: killed at {point}#{_HITS[point]}\n")
        sys.stderr.flush()
        os._exit(_EXIT_CODE)
