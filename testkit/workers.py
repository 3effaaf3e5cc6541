"""What keeps parallel test workers (pytest-xdist) apart: each worker's name and its own range of ports.

pytest-xdist names its workers ``gw0``, ``gw1``, … in ``PYTEST_XDIST_WORKER``; a serial run has none.
Each worker takes loopback ports from its own block below the kernel's ephemeral range (32768-60999 on
Linux), so a port one worker picked for a server (Dovecot, HAProxy, aiosmtpd, an instance's HTTP port) is
never the port another worker picks at the same moment. A serial run asks the kernel for any free port.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

_BLOCK_START = 20_000
_BLOCK_SIZE = 500
_MAX_WORKERS = 24  # 20 000 + 24 x 500 stays below 32 768


def worker_name() -> str:
    """This process's pytest-xdist worker (``gw0``, ``gw1``, …), or ``main`` outside a parallel run."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _worker_number() -> int | None:
    name = worker_name()
    if name.startswith("gw") and name[2:].isdigit() and int(name[2:]) < _MAX_WORKERS:
        return int(name[2:])
    return None


def _candidates() -> itertools.cycle[int] | None:
    number = _worker_number()
    if number is None:
        return None
    start = _BLOCK_START + number * _BLOCK_SIZE
    block = list(range(start, start + _BLOCK_SIZE))
    offset = random.randrange(_BLOCK_SIZE)  # two runs side by side rarely walk the block in step
    return itertools.cycle(block[offset:] + block[:offset])


_ports = _candidates()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A loopback TCP port nobody listens on right now, from this worker's own block of ports."""
    if _ports is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(_BLOCK_SIZE):
        port = next(_ports)
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port left in worker {worker_name()}'s block")
