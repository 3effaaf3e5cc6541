"""Test helpers for the email channel: a real Dovecot on loopback, a recording ingest, sample mail.

Dovecot is started in its own temp dir on a free port as /work/shared/TEST-SERVERS.md
describes. Without /usr/sbin/dovecot the tests skip, unless THREADLINE_REQUIRE_SERVERS=1
turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

from bot.ports.inbound import InboundMessage, IngestResult
from testkit.workers import free_port

DOVECOT = "/usr/sbin/dovecot"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"


def need_server(what: str) -> None:
    """Skip (or fail under THREADLINE_REQUIRE_SERVERS=1) because ``what`` is missing."""
    reason = f"{what} is not available on this machine"
    if os.environ.get("THREADLINE_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (THREADLINE_REQUIRE_SERVERS=1)")
    pytest.skip(reason)


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


def smtp_toml(port: int) -> str:
    """Threadline's config section sending through the aiosmtpd sink on ``port``."""
    return f"""
[channels.email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
"""


def start_dovecot(auth: str = PASSWORD_AUTH) -> Dovecot:
    """Start a fresh Dovecot in a new temp dir on a free port and wait until it accepts connections.

    ``auth`` is the configuration of its sign-in (auth_mechanisms and passdb); ``{d}`` in it is
    replaced by the server's directory.
    """
    if not os.path.exists(DOVECOT):
        need_server(DOVECOT)
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


@dataclass
class Recorder:
    """An in-memory stand-in for the core: records messages and stores cursors as ingest would."""

    messages: list[InboundMessage] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    fail_after: int | None = None

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Record ``message`` and its cursor together (one "transaction")."""
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise RuntimeError("simulated crash in ingest")
        self.messages.append(message)
        if message.cursor is not None:
            self.cursors[message.cursor.key] = message.cursor.value
        self.arrived.set()
        return IngestResult(duplicate=False, conversation_number=len(self.messages))

    async def load_cursor(self, key: str) -> str | None:
        """The stored cursor for ``key``."""
        return self.cursors.get(key)

    async def save_cursor(self, key: str, value: str) -> None:
        """Store a cursor without a message (skipped own mail, first start)."""
        self.cursors[key] = value

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least ``count`` messages arrived, or fail after ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"only {len(self.messages)} of {count} messages arrived in {timeout}s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.2))

    def ids(self) -> list[str]:
        """External ids in ingest order."""
        return [m.external_id for m in self.messages]


def make_mail(n: int, *, subject: str = "Hello", domain: str = "example.com", body: str = "") -> bytes:
    """A small customer email with Message-ID ``<msg-n@domain>``."""
    return (
        f"From: Customer {n} <customer{n}@example.com>\r\nTo: support@threadline.test\r\n"
        f"Subject: {subject} {n}\r\nMessage-ID: <msg-{n}@{domain}>\r\n"
        f"Date: Mon, 05 Jan 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body or f'Message number {n}.'}\r\n"
    ).encode()


@dataclass
class Sink:
    """An aiosmtpd handler that stores messages, or answers DATA with a fixed reply."""

    answer: str = "250 OK"
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        if not self.answer.startswith("250"):
            return self.answer
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"
