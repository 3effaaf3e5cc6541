"""Telling the team something once across instances, under a lease, and once that it is over.

Refusal notices (``bot.outbox.refusal_notices``) and outage notices (``bot.outbox.outages``, also
for the mailboxes ``threadline/operations.py`` watches) share one rule: the instance that takes the
lease tells the team, the others stay quiet; the holder releases it when it tells that the trouble
is over. A notice outside any thread is a channel post about no conversation (a brand-new inbox
has none yet), queued due at once in the unit of work that takes or releases the lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.effects import CHANNEL_POST, surface_destination
from storage import UnitOfWork

__all__ = ["Place", "TellOnce"]

Place = tuple[str, str]
"""Where a notice outside any thread goes: (surface, chat channel)."""


class TellOnce:
    """Takes and releases the lease of a notice for one instance (``holder``), queueing the notice."""

    def __init__(self, holder: str, told_for: timedelta) -> None:
        """``told_for``: how long a lease holds; an outage or refusal not over by then may be told again."""
        self.holder = holder
        self.told_for = told_for

    async def tell(self, uow: UnitOfWork, lease: str, now: datetime, place: Place | None, text: str) -> bool:
        """Take ``lease`` and, when it was free, queue ``text`` in ``place`` (None: nothing to post here,
        the caller tells it elsewhere); False when another instance holds it (it told)."""
        if not await uow.leases.take(lease, self.holder, now, now + self.told_for):
            return False
        if place is not None:
            await self._post(uow, place, text, now)
        return True

    async def over(self, uow: UnitOfWork, lease: str, now: datetime, place: Place | None, text: str) -> None:
        """Release ``lease`` and queue ``text`` (that it is over) in ``place`` (None: only release)."""
        await uow.leases.release(lease, self.holder)
        if place is not None:
            await self._post(uow, place, text, now)

    @staticmethod
    async def _post(uow: UnitOfWork, place: Place, text: str, now: datetime) -> None:
        surface, chat_channel = place
        payload = {"chat_channel": chat_channel, "text": text, "link": False}
        # a row about no conversation, due at once (claimed by nobody: its claim ends now)
        await uow.outbox.enqueue_claimed(surface_destination(surface), CHANNEL_POST, now, now, payload)
