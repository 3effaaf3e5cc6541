"""What an instance logged: its JSON log records (stderr), read back."""

from __future__ import annotations

import json

from testkit.processes.procs import Instance

__all__ = ["log_records"]


def log_records(instance: Instance) -> list[dict[str, object]]:
    """The JSON records ``instance`` wrote to stderr so far, in order (other lines skipped)."""
    lines = []
    for line in instance.stderr().splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines
