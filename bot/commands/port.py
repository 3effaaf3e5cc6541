"""The driving port for agents' commands: what a surface adapter calls when an agent acts.

A surface hands the core either a command line as typed (``handle``: a thread message, a
slash command's text) or a command it built from a button, a modal or a typed app-command
option (``execute`` with a ``ParsedCommand`` from ``bot.commands.model``). Typed commands
are never rebuilt as text for the grammar: a modal's free text that happens to read like an
option (``--confirm …``) stays the agent's words. ``CommandService`` implements this port.
"""

from __future__ import annotations

from typing import Protocol

from bot.commands.model import Actor, Location, ParsedCommand
from bot.ports.inbound import InboundAttachment
from bot.views import Reply

__all__ = ["CommandPort"]


class CommandPort(Protocol):
    """Runs agents' commands, as text or as typed commands; refusals come back as a ``Reply``."""

    async def handle(
        self,
        actor: Actor,
        text: str,
        where: Location,
        *,
        prefixed: bool = True,
        files: tuple[InboundAttachment, ...] = (),
    ) -> Reply:
        """Run one command line (``prefixed`` False: given without the prefix); ``files`` go with a reply."""
        ...

    async def execute(self, actor: Actor, parsed: ParsedCommand, where: Location) -> Reply:
        """Run a command the surface built (a button, a modal, an app command's typed options)."""
        ...
