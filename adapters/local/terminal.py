"""Reading typed lines from standard input without blocking the loop; copes with no terminal at all."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from collections.abc import Awaitable, Callable

__all__ = ["read_stdin_lines"]

log = logging.getLogger(__name__)


async def read_stdin_lines(on_line: Callable[[str], Awaitable[object]]) -> None:
    """Call ``on_line`` for each line typed (or piped); return at end of input, never crash on odd stdin."""
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return  # no stdin at all (closed, or a service manager gave none)
    if stat.S_ISREG(mode) or (stat.S_ISCHR(mode) and not os.isatty(fd)):  # a file, or /dev/null
        for line in sys.stdin.read().splitlines():
            await on_line(line)
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError) as exc:
        log.warning("standard input cannot be read; typed commands are off", extra={"reason": str(exc)})
        return
    while line := await reader.readline():
        try:
            await on_line(line.decode("utf-8", errors="replace"))
        except Exception:
            log.exception("typed line failed")
