"""The configuration file as text: which line a key is on, and secrets written into the file.

Both work on the TOML text itself (``tomllib`` keeps no positions), so every problem can say
where to look and a literal secret is caught before it is committed anywhere.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["KeyPath", "key_path", "line_of", "literal_secrets"]

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\s\"']+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_PATH = re.compile(r"^[A-Za-z0-9_\-]+(?:(?:\.[A-Za-z0-9_\-]+)|(?:\[\d+\]))*")
_ENV = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def key_path(problem: str) -> KeyPath:
    """The key a problem line starts with (``inboxes.support.timezone: …``, ``rules[0] …``), as parts."""
    found = _PATH.match(problem)
    if found is None:
        return ()
    parts: list[str | int] = []
    for piece in re.findall(r"[A-Za-z0-9_\-]+|\[\d+\]", found.group(0)):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in parts)


def _headers(lines: list[str]) -> list[tuple[int, KeyPath]]:
    """Each table header's line number (1-based) and path; array tables get their occurrence index."""
    seen: dict[KeyPath, int] = {}
    found: list[tuple[int, KeyPath]] = []
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match is None:
            continue
        names: KeyPath = tuple(part.strip().strip("\"'") for part in match.group(2).split("."))
        if match.group(1) == "[[":
            index = seen.get(names, -1) + 1
            seen[names] = index
            names = (*names, index)
        found.append((number, names))
    return found


def line_of(text: str, path: KeyPath) -> int | None:
    """The line that sets ``path`` (or the header of its nearest table); None when it is not written."""
    if not path:
        return None
    lines = text.splitlines()
    headers = _headers(lines)
    for depth in range(len(path), -1, -1):
        table, rest = path[:depth], path[depth:]
        starts = [number for number, names in headers if names == table] if table else [0]
        if not starts:
            continue
        start = starts[0]
        end = next((number for number, _ in headers if number > start), len(lines) + 1)
        if rest and isinstance(rest[0], str):
            for number in range(start + 1, end):
                key = _KEY.match(lines[number - 1])
                if key is not None and key.group(1) == rest[0]:
                    return number
        if table:
            return start
    return None


def literal_secrets(raw: dict[str, Any], secret: Any) -> list[str]:
    """Warnings for secret keys whose value is written in the file instead of a ``${ENV}`` reference.

    ``secret(path)`` says whether the key at ``path`` holds a secret.
    """
    warnings: list[str] = []

    def visit(value: Any, path: KeyPath) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*path, index))
        elif isinstance(value, str) and value and secret(path) and not _ENV.search(value):
            key = ".".join(str(p) for p in path)
            variable = "_".join(str(p) for p in path[-2:]).upper().replace("-", "_")
            warnings.append(
                f"{key}: a secret is written in the file; write {key.rsplit('.', 1)[-1]} = "
                f'"${{{variable}}}" and set {variable} in the environment'
            )

    visit(raw, ())
    return warnings
