"""A real Dovecot on loopback for the email tests (IMAP), started per test in its own directory.

Dovecot is started in its own temp dir on a free port as /work/shared/TEST-SERVERS.md
describes. Without /usr/sbin/dovecot the tests skip, unless THREADLINE_REQUIRE_SERVERS=1
turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from testkit.servers import unavailable
from testkit.workers import free_port

DOVECOT = "/usr/sbin/dovecot"


PASSWORD_AUTH = """\
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=secret
}
"""
"""Dovecot's default sign-in for tests: any user name with the password ``secret``."""

_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = test-{port}
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
mail_location = maildir:{d}/mail/%u
mailbox_idle_check_interval = 1 secs
{users}
{auth}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: connect with any user name and password ``secret``."""

    host: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def client(self, user: str = "support") -> IMAPClient:
        """A logged-in IMAPClient for ``user``."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, "secret")
        return client

    def log(self) -> str:
        """The server log, for failure messages."""
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def mailbox_toml(self) -> str:
        """Threadline's config section reading this server's ``support`` mailbox into the support inbox."""
        return f"""
[channels.email.mailboxes.support]
inbox = "support"
host = "{self.host}"
port = {self.port}
security = "none"
username = "support"
password = "secret"
since = "7d"
"""


def start_dovecot(auth: str = PASSWORD_AUTH) -> Dovecot:
    """Start a fresh Dovecot in a new temp dir on a free port and wait until it accepts connections.

    ``auth`` is the configuration of its sign-in (auth_mechanisms and passdb); ``{d}`` in it is
    replaced by the server's directory.
    """
    if not os.path.exists(DOVECOT):
        unavailable(f"{DOVECOT} is not available on this machine")
    directory = Path(tempfile.mkdtemp(prefix="tl-dovecot-"))
    directory.chmod(0o755)
    (directory / "mail").mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory / "mail", "nobody", "nogroup")
        uid, gid, users = "nobody", "nogroup", ""
    else:
        import grp
        import pwd

        uid = pwd.getpwuid(os.geteuid()).pw_name
        gid = grp.getgrgid(os.getegid()).gr_name
        users = f"default_internal_user = {uid}\ndefault_internal_group = {gid}\ndefault_login_user = {uid}\n"
    port = free_port()
    conf = directory / "dovecot.conf"
    auth = auth.replace("{d}", str(directory))
    conf.write_text(_CONF.format(d=directory, port=port, uid=uid, gid=gid, users=users, auth=auth))
    process = _spawn(directory)
    server = Dovecot("127.0.0.1", port, directory, process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.02)
    stop_dovecot(server)
    pytest.fail(f"dovecot did not start: {server.log()}")


def _spawn(directory: Path) -> subprocess.Popen[bytes]:
    with open(directory / "stderr.log", "ab") as stderr:
        return subprocess.Popen(
            [DOVECOT, "-F", "-c", str(directory / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def kill_and_restart_dovecot(server: Dovecot, while_down: Callable[[], None] | None = None) -> None:
    """Kill every Dovecot process at once (connections drop, mail stays on disk), then start it again;
    ``while_down`` runs in between (e.g. mail delivered into the maildir meanwhile).

    A process killed while holding a maildir dotlock (``dovecot-uidlist.lock``) leaves it behind,
    and the new Dovecot waits it out (two minutes) before any SELECT or APPEND: removed here, as
    an operator restarting a crashed server would, so tests see the restart and not the lock wait.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    for lock in (server.directory / "mail").rglob("*.lock"):
        lock.unlink(missing_ok=True)
    if while_down is not None:
        while_down()
    server.process = _spawn(server.directory)


def stop_dovecot(server: Dovecot) -> None:
    """Stop the whole process group, then remove its directory."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
    shutil.rmtree(server.directory, ignore_errors=True)
