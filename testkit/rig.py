"""The one shape of a test rig: a Threadline app, the clock it runs on, and ways to let its work finish.

Each platform's rig (``testkit.slack.rig.SlackRig``, ``testkit.discord.rig.DiscordRig``,
``testkit.whatsapp.rig.WhatsAppRig``) extends :class:`Rig` with that platform's fake and its part of
the app as typed, non-optional attributes, found once when the rig is built: a test never asserts
that the app has the surface it was configured with. (The SLA tests have no rig of their own: they
use ``testkit.app.started_app`` with ``testkit.sla``'s settings and helpers.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bot.clock import ManualClock
from threadline.app import Threadline

PartT = TypeVar("PartT")


def configured(part: PartT | None, what: str) -> PartT:
    """The app's ``part`` that the rig's settings configured (``what`` names it when it is missing)."""
    if part is None:
        raise AssertionError(f"the rig's settings configure {what}, but the app has none")
    return part


@dataclass
class Rig:
    """A Threadline app a test drives by hand, on a clock it moves."""

    app: Threadline
    clock: ManualClock

    def advance(self, seconds: float) -> None:
        """Move the app's clock by ``seconds``."""
        self.clock.advance(timedelta(seconds=seconds))

    async def drain(self) -> None:
        """Deliver everything due in the outbox now."""
        await self.app.dispatcher.drain()
