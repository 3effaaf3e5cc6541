"""A throwaway PostgreSQL cluster that a test may stop and start again (a database outage).

``initdb`` and ``pg_ctl`` refuse to run as root, so they run as the ``postgres`` user
(/work/shared/TEST-SERVERS.md). Skips (or fails under THREADLINE_REQUIRE_SERVERS=1)
when the binaries or the user are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from testkit.servers import unavailable
from testkit.workers import free_port


class Cluster:
    """A cluster in a temp dir on a free port; ``url`` uses database ``postgres`` as user ``test``."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            unavailable("PostgreSQL binaries (initdb, pg_ctl) are not available on this machine")
        self.bin = Path(found[-1]).parent
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("the postgres user is not available on this machine")
        self.dir = Path(tempfile.mkdtemp(prefix="tl-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "test", "--auth=trust", "--no-sync"]
        )
        self.url = f"postgresql://test@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, command: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            prefix + command,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-l",
                str(self.dir / "log"),
                "-o",
                options,
                "start",
            ]
        )

    def stop(self) -> None:
        """Stop at once (connections are cut, like a crash of the database server)."""
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def remove(self) -> None:
        """Stop (if running) and delete everything."""
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)
