"""``threadline resync #N [#M ...] | --all``: re-mirror conversations into their chat threads on demand.

The same repair the outbox does by itself once a refusing surface works again: a new card and every
message of the conversation, in order, once (``bot.outbox.repair``). The rows are written to the
outbox; the running Threadline delivers them (``threadline run`` must be running to see them).
"""

from __future__ import annotations

import argparse
import sys

from bot.clock import SystemClock
from bot.outbox.repair import Repairs
from storage import Store
from threadline.config import AppSettings

__all__ = ["add_resync_command", "run_resync_command"]


def _number(text: str) -> int:
    """``#12`` or ``12`` as a conversation number; anything else is a clear argparse error."""
    digits = text.lstrip("#")
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a conversation number (write #12 or 12)")
    return int(digits)


def add_resync_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``resync``."""
    resync = sub.add_parser(
        "resync",
        help="re-mirror conversations into chat: a new card with every message, in order",
        description="Re-mirror conversations into their chat threads: a new card with every message, "
        "in order, once. The running Threadline delivers them.",
    )
    resync.add_argument("numbers", nargs="*", type=_number, metavar="#N", help="conversation numbers")
    resync.add_argument("--all", action="store_true", help="every conversation")


async def run_resync_command(settings: AppSettings, args: argparse.Namespace) -> int:
    """Run ``resync``: 0 when queued, 1 for an unknown conversation, 2 for a wrong call."""
    if bool(args.numbers) == bool(args.all):
        print("threadline resync: give conversation numbers (#12 #15) or --all, not both", file=sys.stderr)
        return 2
    store = Store(settings.threadline.database_url)
    try:
        wanted = None if args.all else sorted(set(args.numbers))
        if wanted is not None:
            async with store.transaction() as uow:
                found = {c.number for c in await uow.repairs.conversations_for_resync(wanted)}
            missing = [n for n in wanted if n not in found]
            if missing:
                listed = ", ".join(f"#{n}" for n in missing)
                print(f"threadline resync: no conversation {listed}; nothing was queued", file=sys.stderr)
                return 1
        done = await Repairs(store, settings, SystemClock(), {}).resync(wanted)
    finally:
        await store.close()
    if not done:
        print("no conversations to re-mirror")
        return 0
    shown = ", ".join(f"#{n}" for n in done[:20]) + (f" and {len(done) - 20} more" if len(done) > 20 else "")
    print(f"re-mirroring {len(done)} conversation(s): {shown}; the running Threadline posts them")
    return 0
