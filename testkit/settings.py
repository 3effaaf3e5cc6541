"""Settings of a test app, built in Python: :class:`SettingsBuilder` holds the configuration as tables,
writes it as TOML (for ``parse_config`` or a real process's ``--config`` file) and parses it into
``AppSettings``. Tests that are about parsing configuration text keep their TOML; all others build.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from threadline.config import AppSettings, parse_config

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    """One TOML value: a string, boolean, number, array or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}: {value!r}")


def _array_of_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _merge(into: dict[str, Any], more: Mapping[str, Any]) -> None:
    """Merge ``more`` into ``into``: tables merge key by key, arrays of tables grow, anything else is
    replaced."""
    for key, value in more.items():
        if _array_of_tables(value) and _array_of_tables(into.get(key)):
            into[key].extend(dict(v) for v in value)
        elif isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value


def _table(lines: list[str], path: str, table: Mapping[str, Any], header: str = "[{}]") -> None:
    lines.append(header.format(path))
    children = {k: v for k, v in table.items() if isinstance(v, Mapping) or _array_of_tables(v)}
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in table.items() if k not in children)
    lines.append("")
    for key, child in children.items():
        if isinstance(child, Mapping):
            _table(lines, f"{path}.{_key(key)}", child)
        else:
            for item in child:
                _table(lines, f"{path}.{_key(key)}", item, "[[{}]]")


class SettingsBuilder:
    """A Threadline configuration for a test: ``[threadline]`` on ``database_url`` (log level warning
    unless ``log_level`` says otherwise; None keeps Threadline's default) and an outbox that sends at
    once (``undo_seconds = 0``: the undo window has its own tests).

    Every method returns the builder: ``SettingsBuilder(url).local_surface().agent("alice", "Alice")``.
    """

    def __init__(self, database_url: str, *, log_level: str | None = "warning") -> None:
        threadline: dict[str, Any] = {"database_url": database_url}
        if log_level is not None:  # None: Threadline's default level
            threadline["log_level"] = log_level
        self.tables: dict[str, Any] = {"threadline": threadline, "outbox": {"undo_seconds": 0}}

    def set(self, table: str, **keys: Any) -> Self:
        """Set ``keys`` in the table at the dotted path ``table`` (created if missing, merged if there)."""
        node = self.tables
        for part in table.split("."):
            node = node.setdefault(part, {})
        _merge(node, keys)
        return self

    def drop(self, table: str) -> Self:
        """Remove the table at the dotted path ``table`` (e.g. the base's ``channels.email``)."""
        *parents, last = table.split(".")
        node = self.tables
        for part in parents:
            node = node[part]
        del node[last]
        return self

    def add(self, array: str, **keys: Any) -> Self:
        """Append one table to the array of tables ``array`` (``[[rules]]``)."""
        self.tables.setdefault(array, []).append(keys)
        return self

    def merge_toml(self, text: str) -> Self:
        """Merge a TOML fragment in (a test's own extra tables or keys)."""
        _merge(self.tables, tomllib.loads(text))
        return self

    def local_surface(self, agent: str = "alice", **keys: Any) -> Self:
        """The terminal surface, acting as ``agent``."""
        return self.set("surfaces.local", agent=agent, **keys)

    def inbox(
        self,
        key: str,
        *,
        channel: str,
        address: str,
        chat_channel: str,
        surface: str | None = None,
        **keys: Any,
    ) -> Self:
        """An inbox: where its customers write (``channel``, ``address``) and where the team sees it
        (``surface``: left out, Threadline's default)."""
        if surface is not None:
            keys["surface"] = surface
        return self.set(f"inboxes.{key}", channel=channel, address=address, chat_channel=chat_channel, **keys)

    def agent(self, key: str, name: str, **identities: str) -> Self:
        """An agent with their name and their identity on each surface (``local="alice"``, ``slack="U1"``)."""
        return self.set(f"agents.{key}", name=name, identities=identities)

    def email_to_files(self, directory: Path | str, **keys: Any) -> Self:
        """Replies to email customers are written as files into ``directory`` (no SMTP server)."""
        return self.set("channels.email", outgoing_dir=str(directory), **keys)

    def smtp(self, port: int, **keys: Any) -> Self:
        """Replies to email customers go through the SMTP server on 127.0.0.1:``port``."""
        return self.set("channels.email.smtp", host="127.0.0.1", port=port, security="none", **keys)

    def toml(self) -> str:
        """The configuration as TOML text."""
        lines: list[str] = []
        for key, table in self.tables.items():
            if isinstance(table, Mapping):
                _table(lines, _key(key), table)
            else:  # an array of tables, such as [[rules]]
                for item in table:
                    _table(lines, _key(key), item, "[[{}]]")
        return "\n".join(lines)

    def settings(self, env: Mapping[str, str] | None = None) -> AppSettings:
        """The parsed settings (``env``: the environment the secrets come from; empty by default)."""
        return parse_config(self.toml(), env=dict(env or {}))


def base_settings(db_url: str, outdir: Path) -> SettingsBuilder:
    """The settings most core tests use: the local surface as Alice, an email inbox ``support`` and a
    WhatsApp inbox ``whatsapp`` (both in Europe/Amsterdam), email replies written to ``outdir``, the
    agents Alice and Bob, a quick outbox (1 s backoff, 50 ms polls)."""
    return (
        SettingsBuilder(db_url)
        .set("outbox", backoff_base_seconds=1.0, poll_interval_seconds=0.05)
        .local_surface("alice")
        .inbox(
            "support",
            name="Support",
            channel="email",
            address="support@example.com",
            surface="local",
            chat_channel="support",
            timezone="Europe/Amsterdam",
        )
        .inbox(
            "whatsapp",
            name="WhatsApp",
            channel="whatsapp",
            address="+31 20 555 0100",
            surface="local",
            chat_channel="wa",
            timezone="Europe/Amsterdam",
            reopen_window="2d",
        )
        .email_to_files(outdir)
        .agent("alice", "Alice Martin", local="alice")
        .agent("bob", "Bob Stone", local="bob")
        .set("demo", whatsapp_outbox_file=f"{outdir}/wa.jsonl")
    )


def make_settings(db_url: str, outdir: Path, extra: str = "") -> AppSettings:
    """The base settings on ``db_url``, email replies written to ``outdir``, ``extra`` TOML merged in."""
    return base_settings(db_url, outdir).merge_toml(extra).settings()
