"""The terminal surface as a person uses it: a real ``threadline run`` on a pseudo-terminal, keys typed.

Focus, history, pasted blocks, colour and the start-up summary are checked on what the terminal
prints and on what was stored and sent, not on internals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from testkit.terminal import WAIT, Terminal

ROOT = Path(__file__).resolve().parent.parent


def _demo(tmp_path: Path, *, colour: bool = True) -> Path:
    text = (
        (ROOT / "config.example.toml")
        .read_text()
        .replace("interval_seconds = 2.0", "interval_seconds = 0.1")
        .replace("undo_seconds = 10", "undo_seconds = 0")  # replies leave at once (tests/undo has the window)
    )
    if not colour:
        text = text.replace("color = true", "color = false")
    (tmp_path / "config.example.toml").write_text(text)
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREADLINE_CONFIG", "NO_COLOR"))}
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _conversation(cwd: Path, number: int) -> dict[str, Any]:
    shown = subprocess.run(
        [sys.executable, "-m", "threadline.cli", "conversations", "show", str(number), "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=WAIT,
        check=True,
    )
    data: dict[str, Any] = json.loads(shown.stdout)
    return data


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return _demo(tmp_path)


def test_focus_history_and_pasted_blocks_on_a_real_terminal(demo: Path) -> None:
    term = Terminal(demo, _env())
    try:
        term.wait_for(r"Automatic reply: Your invoice")  # the sample conversations arrived
        at = term.wait_for(r"no focus ›")

        term.type("#1\r")
        at = term.wait_for(r"Focused on #1\.", after=at)
        at = term.wait_for(r"#1 ›", after=at)

        term.type("#2 !priority low\r")  # acts on #2 ...
        at = term.wait_for(r"#2 priority low\.", after=at)
        at = term.wait_for(r"#1 ›", after=at)  # ... and the focus stays on #1

        term.type("!reply Sorry, a new leg ships today.\r")
        at = term.wait_for(r"Sending your reply to the customer of #1", after=at)

        term.type("!note first thought\r")
        at = term.wait_for(r"#1 │ 📝 note by You", after=at)
        term.type("\x1b[A")  # Up: the last line comes back to be edited
        term.type(", checked\r")
        at = term.wait_for(r"first thought, checked", after=at)

        term.type("\x1b[200~!note line one\nline two\x1b[201~\r")  # a pasted block is one message
        at = term.wait_for(r"line two", after=at)

        term.type("#0\r")
        at = term.wait_for(r"No conversation #0\.", after=at)
        term.type("#999\r")
        at = term.wait_for(r"No conversation #999\.", after=at)
        term.wait_for(r"#1 ›", after=at)  # refused focus changes nothing
    finally:
        code = term.close()
    assert code == 0, term.text[-2000:]

    first = _conversation(demo, 1)
    notes = [m["text"] for m in first["messages"] if m["kind"] == "note"]
    assert notes == ["first thought", "first thought, checked", "line one\nline two"]
    second = _conversation(demo, 2)
    assert second["priority"] == "low"
    replies = list((demo / "threadline-data" / "sent-mail").glob("*.eml"))
    assert len(replies) == 1  # the reply went to #1's customer, not to #2's
    mail = message_from_bytes(replies[0].read_bytes(), policy=policy.default)
    assert mail["To"] == "Jane Doe <jane.doe@example.org>"
    body = mail.get_body(("plain",))
    assert body is not None and "a new leg ships today" in body.get_content()


def test_colour_follows_the_setting_and_no_color_and_a_restart_lists_what_is_open(tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    coloured = Terminal(demo, _env())
    try:
        at = coloured.wait_for(r"a replacement leg is fine too")  # the last sample
        coloured.wait_for(r"no focus ›", after=at)
    finally:
        assert coloured.close() == 0
    assert "\x1b[1;36m━━ #1" in coloured.raw  # the card header, in colour

    plain = Terminal(demo, _env(NO_COLOR="1"))
    try:
        plain.wait_for(r"open conversations \(\d+\):")  # after a restart, what is open is shown first
        at = plain.wait_for(r'#1 · open · email · .* · "Refund for order 1881"')
        plain.wait_for(r"no focus ›", after=at)
    finally:
        assert plain.close() == 0
    assert "\x1b[1;36m" not in plain.raw and "\x1b[31m" not in plain.raw
