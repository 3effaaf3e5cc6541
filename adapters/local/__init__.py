"""The local surface: conversations as threads in the terminal, and a queue-backed variant for tests."""

from adapters.local.palette import Palette, colour_wanted
from adapters.local.surface import LocalSurface, LocalThread
from adapters.local.terminal import is_interactive, run_terminal

__all__ = ["LocalSurface", "LocalThread", "Palette", "colour_wanted", "is_interactive", "run_terminal"]
