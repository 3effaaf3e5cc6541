"""Every test's group (a pytest marker), by what it needs to run: ``pytest -m unit`` runs only the unit tests.

The groups, from least to most demanding:

- ``unit``: plain code, no database and no server;
- ``core``: the core (and the app) on SQLite;
- ``adapters``: an adapter against the fakes of its platform (Slack, Discord, Graph) or in-process stand-ins;
- ``storage``: needs the real PostgreSQL (usually run on SQLite and PostgreSQL both);
- ``servers``: real servers (Dovecot, aiosmtpd, HAProxy, PostgreSQL clusters) or real Threadline processes;
- ``crash``: real Threadline processes killed with SIGKILL mid-work, then checked.

A test's group is the one its path gives (``GROUP_BY_PATH``, the longest matching prefix of its path below
``tests/``), raised to ``storage`` or ``servers`` when it asks for a fixture of that group (``db_url``,
``dovecot``, …): each test gets exactly one group.
"""

from __future__ import annotations

import os

import pytest

GROUPS = ("unit", "core", "adapters", "storage", "servers", "crash")
"""The group markers, least demanding first (registered in pyproject.toml)."""

GROUP_BY_PATH = {
    "": "core",
    "test_commands.py": "unit",
    "test_config.py": "unit",
    "test_config_documented.py": "unit",
    "test_config_secrets.py": "unit",
    "test_lifecycle.py": "unit",
    "test_local_files.py": "unit",
    "test_reply_files.py": "unit",
    "test_timespec.py": "unit",
    "test_journal.py": "storage",
    "test_migration_": "storage",
    "test_oauth_token_storage.py": "storage",
    "test_storage.py": "storage",
    "test_snapshot.py": "storage",
    "test_database_clock.py": "storage",
    "test_store_reconnect.py": "storage",
    "test_backup.py": "servers",
    "test_cli.py": "servers",
    "test_packaging.py": "servers",
    "test_progress.py": "servers",
    "test_terminal.py": "servers",
    "test_start_unreachable.py": "servers",
    "automation/": "core",
    "sla/": "core",
    "slack/": "adapters",
    "slack/test_slack_with_mail_servers.py": "servers",
    "slack/test_slack_doctor_cli.py": "servers",
    "discord/": "adapters",
    "discord/test_discord_with_mail_servers.py": "servers",
    "whatsapp/": "adapters",
    "email/": "adapters",
    "email/test_email_conversations_show.py": "servers",
    "email/test_email_doctor.py": "servers",
    "email/test_email_end_to_end.py": "servers",
    "email/test_email_fidelity_end_to_end.py": "servers",
    "email/test_email_imap": "servers",
    "email/test_email_oauth.py": "servers",
    "email/test_email_oauth_end_to_end.py": "servers",
    "email/test_email_smtp.py": "servers",
    "email/test_email_wiring.py": "servers",
    "reliability/": "servers",
    "reliability/test_crash": "crash",
    "reliability/test_instances.py": "crash",
    "reliability/test_load_balancer.py": "crash",
}
"""A path below ``tests/`` (a directory, a module, or the start of module names) -> its tests' group."""

GROUP_BY_FIXTURE = {
    "pg_server": "storage",
    "db_url": "storage",
    "any_app": "storage",
    "process_db": "storage",
    "pg_db": "storage",
    "dovecot": "servers",
    "oauth_dovecot": "servers",
    "smtp": "servers",
    "sink": "servers",
    "haproxy": "servers",
}
"""A fixture -> the least group of a test that asks for it."""


def group_of(relative_path: str, fixtures: list[str]) -> str:
    """The group of a test in ``relative_path`` (below ``tests/``, with ``/``) asking for ``fixtures``."""
    prefix = max((p for p in GROUP_BY_PATH if relative_path.startswith(p)), key=len)
    needs = [GROUP_BY_PATH[prefix]] + [GROUP_BY_FIXTURE[f] for f in fixtures if f in GROUP_BY_FIXTURE]
    return max(needs, key=GROUPS.index)


def mark_groups(items: list[pytest.Item], root: str) -> None:
    """Give every collected test exactly one group marker (``root`` is the ``tests/`` directory), and put
    the most demanding groups first (in collection order within a group): the real-process tests take
    the longest, so a parallel run that starts them first ends on short tests instead of waiting on one
    crash test started last. pytest-xdist's ``worksteal`` hands each worker one contiguous share of the
    collection, so with N workers the order is dealt out N ways (every Nth test): each share starts
    with its part of the long tests."""
    rank: dict[str, int] = {}
    for item in items:
        relative = item.path.relative_to(root).as_posix()
        group = group_of(relative, list(getattr(item, "fixturenames", ())))
        item.add_marker(getattr(pytest.mark, group))
        rank[item.nodeid] = GROUPS.index(group)
    items.sort(key=lambda item: -rank[item.nodeid])
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        items[:] = [item for share in range(workers) for item in items[share::workers]]
