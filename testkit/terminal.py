"""A ``threadline run`` process on a pseudo-terminal, as a person uses it: keys typed, the screen read."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

__all__ = ["ANSI", "WAIT", "Terminal"]


WAIT = 60.0
"""The longest wait for the terminal (s): a bound, not a timing (a slow machine only waits longer)."""


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]")
"""The terminal's escape sequences (colour, cursor, title), removed from what it printed."""


class Terminal:
    """A ``threadline run`` process on a pseudo-terminal: keys in, the screen's text out."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 220, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            [sys.executable, "-m", "threadline.cli", "run", "--for", "300"],
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = ""

    def _read(self, seconds: float) -> None:
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                self.raw += os.read(self.master, 65536).decode("utf-8", errors="replace")
            except OSError:  # the process closed the terminal
                time.sleep(seconds)

    @property
    def text(self) -> str:
        """What was printed, escape sequences removed."""
        return ANSI.sub("", self.raw).replace("\r", "")

    def wait_for(self, pattern: str, *, after: int = 0) -> int:
        """Read until ``pattern`` (a regex) shows after offset ``after`` of ``text``; its end offset."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text[after:])
            if found:
                return after + found.end()
            self._read(0.2)
        raise AssertionError(f"{pattern!r} never appeared; the terminal showed:\n{self.text[-3000:]}")

    def type(self, keys: str) -> None:
        """Send keys as typed (``\\r`` is Enter)."""
        os.write(self.master, keys.encode())

    def close(self) -> int:
        """Ctrl-C, then the exit code (killed if it does not stop)."""
        if self.process.poll() is None:
            self.type("\x03")
        try:
            deadline = time.monotonic() + WAIT
            while self.process.poll() is None and time.monotonic() < deadline:
                self._read(0.2)
            return self.process.wait(timeout=1)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            os.close(self.master)
