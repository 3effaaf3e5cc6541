"""The command line run as a real process (``python -m threadline.cli``), as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "run_cli"]


ROOT = Path(__file__).resolve().parent.parent
"""The checkout (``config.example.toml`` is there)."""


def run_cli(
    args: list[str], cwd: Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``threadline args`` in ``cwd`` (no ``THREADLINE_CONFIG*`` from the environment), output captured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "threadline.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
