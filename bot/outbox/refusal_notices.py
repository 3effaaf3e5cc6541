"""Telling the team in chat that a surface refuses, once, and once that it works again.

A refusal (``SurfaceRefused``: the bot not in the channel, the channel gone, a bad token, a missing
permission) cannot be shown where it happens. The notice goes where the team can read it: another
chat channel of the same surface (another inbox's) when only one channel refuses, else a chat
channel of another running surface; with no such place the error log line is all there is
(``bot.outbox.repair`` writes it either way). The "works again" notice goes to the same place, or,
when there was none, into the healed scope itself, which works now.

Once across instances: the instance that tells takes the lease ``refused:<surface>:<scope>``;
the others stay quiet. The notices are channel posts about no conversation (like a digest), so
a brand-new inbox with no conversation yet can carry them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.effects import surface_destination
from bot.outbox.tell_once import Place, TellOnce
from bot.ports import WHOLE_SURFACE, Surface
from storage import Store, UnitOfWork

__all__ = ["RefusalNotices", "notice_lease"]

_TOLD_FOR = timedelta(hours=24)  # a refusal not healed within a day may be told again


def notice_lease(surface: str, scope: str) -> str:
    """The lease whose holder told the team about a refused scope."""
    return f"refused:{surface}:{scope}"


class RefusalNotices:
    """Chooses where a refusal notice can be read and queues it, once per broken scope."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        surfaces: Mapping[str, Surface],
        holder: str,
        working: Callable[[str, str], bool],
    ) -> None:
        """``working(surface, chat_channel)``: False when that place is known to refuse."""
        self.store = store
        self.settings = settings
        self.clock = clock
        self.surfaces = surfaces
        self.working = working
        self.once = TellOnce(holder, _TOLD_FOR)

    def place(self, surface: str, scope: str) -> Place | None:
        """Where a notice about ``scope`` of ``surface`` can be read: (surface, chat channel), or None.

        The same surface's other chat channels first (the team works there), then other surfaces'."""
        candidates: list[Place] = []
        for inbox in self.settings.inboxes.values():
            place = (inbox.surface, inbox.chat_channel)
            if place in candidates or inbox.surface not in self.surfaces:
                continue
            if inbox.surface == surface and (scope == WHOLE_SURFACE or inbox.chat_channel == scope):
                continue  # refused itself
            if self.working(*place):
                candidates.append(place)
        candidates.sort(key=lambda p: p[0] != surface)  # stable: configuration order within each group
        return candidates[0] if candidates else None

    def _where(self, surface: str, scope: str) -> str:
        label = self.settings.destination_label(surface_destination(surface))
        return f"{label} (every channel)" if scope == WHOLE_SURFACE else f"{label} channel {scope}"

    async def refused(self, uow: UnitOfWork, surface: str, scope: str, reason: str) -> bool:
        """Queue the one notice that ``scope`` refuses, in the unit of work that marks it; False when
        another instance told it or there is nowhere to post (the log line stands)."""
        place = self.place(surface, scope)
        if place is None:
            return False
        text = (
            f"{self._where(surface, scope)} refuses Threadline's posts: {reason}. The conversations "
            "there wait and nothing is lost; once it is fixed each one is shown again in full, once."
        )
        return await self.once.tell(uow, notice_lease(surface, scope), self.clock.now(), place, text)

    async def healed(
        self, uow: UnitOfWork, surface: str, scope: str, reason: str, conversations: int
    ) -> None:
        """Queue the one notice that ``scope`` works again (``reason``: what it refused with), in the
        unit of work that queues the re-mirror (a crash loses neither or both)."""
        place = self.place(surface, scope) or (
            surface,
            scope if scope != WHOLE_SURFACE else self._first_channel(surface),
        )
        if not place[1]:
            return
        was = f" (it refused: {reason})" if reason else ""
        count = f"{conversations} conversation{'s' if conversations != 1 else ''}"
        verb = "is" if conversations == 1 else "are"
        where = self._where(surface, scope)
        waited = f"; {count} that waited {verb} shown again in full" if conversations else ""
        text = f"✅ {where} works again{was}{waited}."
        await self.once.over(uow, notice_lease(surface, scope), self.clock.now(), place, text)

    async def forget(self, surface: str, scope: str) -> None:
        """Another instance healed ``scope``: give up this instance's lease on telling it."""
        async with self.store.transaction() as uow:
            await self.once.over(uow, notice_lease(surface, scope), self.clock.now(), None, "")

    def _first_channel(self, surface: str) -> str:
        return next((i.chat_channel for i in self.settings.inboxes.values() if i.surface == surface), "")
