"""Agent commands: the one grammar every surface shares, and the service that applies a command.

``model`` holds the commands as data (with ``Actor`` and ``Location``); ``grammar`` turns text
into a ``ParsedCommand``; ``port.CommandPort`` is what surfaces call, with text or a typed
command; ``CommandService`` checks and applies one in a transaction through the handler
table in ``handlers``; ``reply_files`` checks the files sent with a reply against the
channel's limits; ``help``, ``listing`` (with ``message_details``) and ``suggest`` answer
read-only questions.
"""

from bot.commands.grammar import CommandError, parse_command
from bot.commands.model import Actor, Location, ParsedCommand
from bot.commands.port import CommandPort
from bot.commands.service import CommandService, Execute

__all__ = [
    "Actor",
    "CommandError",
    "CommandPort",
    "CommandService",
    "Execute",
    "Location",
    "ParsedCommand",
    "parse_command",
]
