"""The local surface: conversations as threads in the terminal, and a queue-backed variant for tests."""

from adapters.local.surface import LocalSurface, LocalThread
from adapters.local.terminal import read_stdin_lines

__all__ = ["LocalSurface", "LocalThread", "read_stdin_lines"]
