"""The local surface: conversations as threads in the terminal, and a queue-backed variant for tests."""

from adapters.local.palette import Palette, colour_wanted
from adapters.local.shown import ShownRecord
from adapters.local.surface import LocalSurface, LocalThread, erase_saved_files
from adapters.local.terminal import is_interactive, run_terminal

__all__ = [
    "LocalSurface",
    "LocalThread",
    "Palette",
    "ShownRecord",
    "colour_wanted",
    "erase_saved_files",
    "is_interactive",
    "run_terminal",
]
