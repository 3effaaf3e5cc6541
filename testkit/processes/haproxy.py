"""A real HAProxy (the Debian package, ``/usr/sbin/haproxy``) in front of several instances on loopback.

``Balancer`` writes an ``haproxy.cfg`` on a free loopback port: one HTTP frontend, ``balance
roundrobin`` over the given backends, each health-checked with ``GET /readyz`` (or ``check``)
every 500 ms (``fall 2 rise 1``: a killed instance refuses the check's connection at once, so it
is out within about a second; a check may take 3 s on a loaded machine before it counts as failed),
and runs ``haproxy -db`` (foreground, no daemon) as a child that ``stop`` kills. ``/readyz`` answers 503
while an instance cannot take work (database unreachable, shutting down; adapters/web/server.py).
A request whose connection was refused is tried on the other backend (``retries 2``, ``option
redispatch``); one the dead instance had already received gets HAProxy's 502/503 and the sender
retries it. The runtime API on a local socket (``show stat``) tells which backends HAProxy holds
up and how many requests each was sent.

A missing HAProxy skips the test, and fails it under ``THREADLINE_REQUIRE_SERVERS=1`` (CI):
``scripts/test`` installs it there.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from testkit.servers import unavailable
from testkit.workers import free_port

HAPROXY = "/usr/sbin/haproxy"

CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 3s
    retries 2
    option redispatch 1
    option http-server-close

frontend threadline
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET {check}
    http-check expect status 200
    default-server inter 500ms fastinter 500ms downinter 500ms fall 2 rise 1
{servers}
"""


class Balancer:
    """HAProxy on ``127.0.0.1:port`` spreading requests round-robin over ``backends`` (name -> port)."""

    def __init__(self, backends: dict[str, int], check: str = "/readyz") -> None:
        if not os.access(HAPROXY, os.X_OK):
            unavailable(f"HAProxy ({HAPROXY}; Debian package haproxy) is not available on this machine")
        self.backends = dict(backends)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="tl-haproxy-"))
        self.socket = self.dir / "admin.sock"
        self.config = self.dir / "haproxy.cfg"
        self.log = self.dir / "haproxy.log"
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{port} check" for name, port in self.backends.items()
        )
        self.config.write_text(
            CONFIG.format(socket=self.socket, port=self.port, servers=servers, check=check)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Check the configuration, then run HAProxy in the foreground (``-db``) until it listens."""
        subprocess.run([HAPROXY, "-c", "-q", "-f", str(self.config)], check=True, timeout=30)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"haproxy exited {self.process.returncode}:\n{self.log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy did not listen:\n{self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill HAProxy and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stats(self) -> dict[str, dict[str, str]]:
        """``show stat`` of the backend's servers: name -> row (``status`` UP/DOWN, ``stot`` requests)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(5)
            admin.connect(str(self.socket))
            admin.sendall(b"show stat\n")
            chunks = []
            while chunk := admin.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: row
            for row in rows
            if row.get("pxname") == "instances" and row["svname"] in self.backends
        }

    def up(self) -> set[str]:
        """The backends HAProxy's health check holds up now."""
        return {name for name, row in self.stats().items() if row["status"].startswith("UP")}

    async def until_up(self, names: set[str], timeout: float = 60.0) -> None:
        """Wait until exactly ``names`` are up (health checks passed or failed)."""
        deadline = time.monotonic() + timeout
        while (current := self.up()) != names:
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy holds {current} up, expected {names}:\n{self.log.read_text()}")
            await asyncio.sleep(0.1)
