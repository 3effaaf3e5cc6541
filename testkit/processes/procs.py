"""Real ``threadline run`` processes for the crash, outage and multi-instance tests.

Each ``Instance`` is ``python -m threadline.cli --config FILE run`` in its own session,
with stdout (the local surface prints every thread line) and stderr appended to
files across restarts, so what the team saw over all runs can be read back.
``THREADLINE_FAULT`` arms a kill point (``bot.runtime.faults``) for one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from testkit.settings import SettingsBuilder

ROOT = Path(__file__).resolve().parents[2]


def instance_settings(
    db: str,
    *,
    imap: int,
    smtp: int,
    instance: str,
    lease: float = 3.0,
    claim: float = 2.0,
    ops_extra: str = "",
) -> SettingsBuilder:
    """One instance's settings: JSON logs at info, the local surface, the support inbox read from the
    Dovecot on ``imap`` and answered through the SMTP server on ``smtp``, a quick outbox, leases of
    ``lease`` seconds and outbox claims of ``claim`` seconds (short, so the crash tests settle quickly);
    ``ops_extra`` is more ``[ops]`` keys."""
    return (
        SettingsBuilder(db, log_level="info")
        .set("threadline", log_format="json")
        .set("outbox", backoff_base_seconds=0.2, backoff_max_seconds=1.0, poll_interval_seconds=0.1)
        .set("ops", instance_name=instance, lease_seconds=lease, down_after_failures=2, claim_seconds=claim)
        .merge_toml("[ops]\n" + ops_extra)
        .local_surface("alice", color=False)
        .inbox(
            "support",
            name="Support",
            channel="email",
            address="support@example.com",
            surface="local",
            chat_channel="support",
        )
        .set("channels.email", message_id_domain="threadline.test")
        .smtp(smtp, timeout=3)
        .set(
            "channels.email.mailboxes.support",
            inbox="support",
            host="127.0.0.1",
            port=imap,
            security="none",
            username="support",
            password="secret",
            since="7d",
            timeout_seconds=3,
        )
        .agent("alice", "Alice Martin", local="alice")
    )


def write_config(
    path: Path,
    db: str,
    *,
    imap: int,
    smtp: int,
    instance: str,
    lease: float = 3.0,
    claim: float = 2.0,
    ops_extra: str = "",
    tail: str = "",
) -> Path:
    """Write ``instance_settings`` with ``tail`` (TOML) merged in to ``path``; return ``path``."""
    settings = instance_settings(
        db, imap=imap, smtp=smtp, instance=instance, lease=lease, claim=claim, ops_extra=ops_extra
    )
    path.write_text(settings.merge_toml(tail).toml())
    return path


class Instance:
    """One ``threadline run`` process, restartable; output appended to ``<name>.out`` / ``<name>.err``."""

    def __init__(self, config: Path, directory: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.name = name
        self.env = env or {}  # added to this process's environment (e.g. THREADLINE_TEST_CLOCK_OFFSET)
        self.out = directory / f"{name}.out"
        self.err = directory / f"{name}.err"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, fault: str | None = None) -> None:
        """Start (again), optionally with a kill point armed."""
        env = {k: v for k, v in os.environ.items() if k != "THREADLINE_FAULT"}
        env["PYTHONPATH"] = str(ROOT)
        env.update(self.env)
        if fault:
            env["THREADLINE_FAULT"] = fault
        with open(self.out, "ab") as out, open(self.err, "ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "threadline.cli", "--config", str(self.config), "run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    async def exited(self, timeout: float = 60.0) -> int:
        """Wait (with a deadline) for the process to end; its exit code."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{self.name} did not exit within {timeout}s:\n{self.stderr()[-3000:]}")
            await asyncio.sleep(0.05)
        return int(self.process.returncode)

    def kill(self) -> None:
        """SIGKILL the whole session."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM (graceful stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stdout(self) -> str:
        """Everything the local surface printed over all runs."""
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def stderr(self) -> str:
        """Every log line over all runs."""
        return self.err.read_text(errors="replace") if self.err.exists() else ""


async def until(predicate: Callable[[], object], timeout: float, what: str, *instances: Instance) -> None:
    """Poll ``predicate`` (sync) until true, or fail after ``timeout`` s with the instances' logs."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {i.name}\n{i.stderr()[-2500:]}" for i in instances)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.1)


def customer_mail(n: int, tag: str = "crash") -> bytes:
    """A customer's email number ``n``, from its own address (its own conversation)."""
    mail = EmailMessage()
    mail["From"] = f"Customer {n} <customer{n}@example.org>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Order {1000 + n} question"
    mail["Message-ID"] = f"<{tag}-{n}@example.org>"
    mail.set_content(f"Body of message {tag}-{n}: where is my order {1000 + n}?")
    return bytes(mail)
