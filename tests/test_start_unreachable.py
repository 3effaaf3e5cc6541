"""A start that never blocks: with Slack unreachable, health is served, the state shown, stops honoured.

Threadline runs as a real process; Slack's API address is a closed port on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from testkit.workers import free_port

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0  # a bound for a slow machine, never a timing to meet


def _config(tmp_path: Path, web_port: int) -> Path:
    closed = free_port()  # nothing listens there: Slack is unreachable
    text = (ROOT / "config.example.toml").read_text()
    text += f"""
[surfaces.slack]
bot_token = "xoxb-1-unreachable"
app_token = "xapp-1-unreachable"
mode = "socket"
api_base_url = "http://127.0.0.1:{closed}/api/"

[web]
port = {web_port}
"""
    text = text.replace("# [ops]\n# serve = true", "[ops]\nserve = true", 1)
    path = tmp_path / "threadline.toml"
    path.write_text(text)
    return path


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> tuple[int, str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, "threadline exited"
        try:
            return _get(url)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} was never served")


def test_health_is_served_and_sigterm_honoured_while_slack_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_CONFIG")}
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline.cli", "--config", str(config), "run", "--for", "600"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        status, _ = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert status == 200
        status, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200  # the instance takes work durably; Slack's state is in the body, never a 503
        state = json.loads(body)
        assert state["components"]["surface:slack"]["ok"] is False and "slack" in state["surfaces"]
        time.sleep(3)  # a few reconnect attempts
        process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        _, errors = process.communicate(timeout=WAIT)
        stop_seconds = time.monotonic() - stopped_at
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert stop_seconds < 20, f"took {stop_seconds:.1f} s to stop"
    text = errors.decode()
    assert text.count("Traceback") == 0, text[-3000:]
