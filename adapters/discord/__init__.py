"""The Discord surface (discord.py 2.x): conversations as threads or forum posts, worked with app commands.

``DiscordSurface`` implements ``bot.ports.Surface``; ``Bridge`` turns interactions and
thread messages into core commands. See docs/discord.md for setup.
"""

from adapters.discord.bridge import Bridge
from adapters.discord.client import ThreadlineClient, set_api_base
from adapters.discord.surface import DiscordSurface

__all__ = ["Bridge", "DiscordSurface", "ThreadlineClient", "set_api_base"]
