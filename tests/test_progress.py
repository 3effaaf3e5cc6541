"""Progress bars of long work: drawn on a terminal with counts, rate and time left; silent in pipes and logs.

The helper is checked on a real pseudo-terminal and a real pipe; ``db upgrade`` and ``contact forget``
run as real processes, on a pseudo-terminal (the bar and its counts show) and on pipes (not a byte
of control characters); ``run`` on a pseudo-terminal reads a real Dovecot's backlog below its prompt.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from testkit.email.dovecot import Dovecot
from testkit.email.sample_mail import make_mail
from testkit.settings import base_settings
from testkit.terminal import Terminal
from threadline.progress import ProgressDisplay

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120.0  # a bound, not a timing: a slow machine only waits longer
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _pty() -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    return master, slave


def _drain(master: int, until_closed: subprocess.Popen[bytes] | None = None) -> str:
    """Everything written to the terminal (until the process ends, or nothing more comes)."""
    out = b""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif until_closed is None or until_closed.poll() is not None:
            break
    return out.decode("utf-8", errors="replace")


def test_on_a_terminal_the_bar_shows_label_counts_rate_and_time_left() -> None:
    master, slave = _pty()
    with (
        os.fdopen(slave, "w", encoding="utf-8", closefd=True) as terminal,
        ProgressDisplay(terminal) as shown,
    ):
        step = shown.track("erasing conversations")
        for done in range(1, 4):
            step(done, 3)
    drawn = _drain(master)
    os.close(master)
    assert "\x1b[" in drawn  # drawn and redrawn in place
    text = ANSI.sub("", drawn)
    assert "erasing conversations" in text and "3/3" in text
    assert re.search(r"[\d.,]+/s", text) and "eta" in text


def test_in_a_pipe_or_a_log_nothing_is_written() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w", encoding="utf-8") as pipe, ProgressDisplay(pipe) as shown:
        assert not shown.enabled
        step = shown.track("migrating the database")
        for done in range(1, 4):
            step(done, 3)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.read() == b""
    log = io.StringIO()
    with ProgressDisplay(log) as shown:
        shown.track("exporting conversations")(1, 1)
    assert log.getvalue() == ""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREADLINE_CONFIG", "NO_COLOR"))}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
    return env


def _on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``threadline ARGS`` with a pseudo-terminal as stdin, stdout and stderr: exit code, screen text."""
    master, slave = _pty()
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline.cli", *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
        start_new_session=True,
    )
    os.close(slave)
    try:
        drawn = _drain(master, until_closed=process)
        code = process.wait(timeout=WAIT)
    finally:
        os.close(master)
    return code, ANSI.sub("", drawn).replace("\r", "\n")


def _piped(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threadline.cli", *args],
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=_env(),
    )


def _config(tmp_path: Path) -> Path:
    text = (
        (ROOT / "config.example.toml")
        .read_text()
        .replace("interval_seconds = 2.0", "interval_seconds = 0.1")
        .replace("undo_seconds = 10", "undo_seconds = 0")  # replies leave at once (tests/undo has the window)
    )
    (tmp_path / "config.example.toml").write_text(text)
    return tmp_path


def test_db_upgrade_shows_each_migration_step_on_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    cwd = _config(tmp_path)
    steps = len(list((ROOT / "storage" / "migrations" / "versions").glob("0*.py")))
    code, screen = _on_terminal(["db", "upgrade"], cwd)
    assert code == 0, screen
    assert re.search(rf"migrating the database .*{steps}/{steps}", screen), screen
    assert "database is at the newest schema" in screen

    shutil.rmtree(cwd / "threadline-data")
    piped = _piped(["db", "upgrade"], cwd)
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stdout + piped.stderr and "migrating" not in piped.stderr
    assert piped.stdout == "database is at the newest schema\n"


def test_contact_forget_counts_the_conversations_it_erases_on_a_terminal(tmp_path: Path) -> None:
    cwd = _config(tmp_path)
    demo = _piped(["run", "--for", "6"], cwd, stdin="")  # the demo files its sample mail
    assert demo.returncode == 0, demo.stderr
    listing = json.loads(_piped(["conversations", "list", "--json"], cwd).stdout)
    first = next(c for c in listing if c["number"] == 1)
    ours = [c for c in listing if c["contact"] == first["contact"]]

    code, screen = _on_terminal(["contact", "forget", "#1", "--yes"], cwd)
    assert code == 0, screen
    assert re.search(rf"erasing conversations .*{len(ours)}/{len(ours)}", screen), screen
    assert f"{len(ours)} conversation(s) anonymised" in screen

    exported = _piped(["contact", "export", "#2"], cwd)  # a pipe: the JSON alone, no bar
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == "" and json.loads(exported.stdout)["conversations"]


def test_run_on_a_terminal_reports_the_mailbox_backlog_it_reads(tmp_path: Path, dovecot: Dovecot) -> None:
    backlog = 60  # more than one fetch batch (50): a backlog, not a new mail
    client = dovecot.client()
    try:
        for n in range(1, backlog + 1):
            client.append("INBOX", make_mail(n, subject=f"Order {n}"))
    finally:
        client.logout()
    config = base_settings(f"sqlite:///{tmp_path}/threadline.db", tmp_path / "out").toml()
    (tmp_path / "threadline.toml").write_text(config + dovecot.mailbox_toml())
    terminal = Terminal(tmp_path, {**_env(), "PROMPT_TOOLKIT_NO_CPR": "1"})
    try:
        end = terminal.wait_for(rf"mailbox support {backlog}/{backlog} in \d+:\d\d:\d\d · [\d.,]+/s")
        terminal.wait_for(r"› ", after=end)  # the prompt is still there, and takes typing
        terminal.type("#1\r")
        terminal.wait_for(r"#1 ›", after=end)
    finally:
        assert terminal.close() == 0
