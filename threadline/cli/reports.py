"""The scheduler's command-line subcommands: ``threadline digest send NAME`` and ``threadline report``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.digest import DigestError
from bot.reports.report import build_report, render
from bot.timespec import parse_duration
from storage import Store
from storage.migrate import upgrade
from threadline.app import Threadline, stdout_printer
from threadline.config import AppSettings

__all__ = ["add_sla_commands", "run_sla_command"]


def _since(text: str) -> Any:
    delta = parse_duration(text)
    if delta is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration; write it like 24h, 7d or 4w")
    return delta


def add_sla_commands(sub: Any) -> None:
    """Add the ``digest`` and ``report`` subcommands to the top-level subparsers."""
    digest = sub.add_parser("digest", help="digests")
    digest_sub = digest.add_subparsers(dest="digest_command", required=True)
    send = digest_sub.add_parser("send", help="post a digest now (the period since its last run)")
    send.add_argument("name", help="the digest's name under [digests]")
    report = sub.add_parser(
        "report",
        help="volume, response times, SLA compliance, per agent and label",
        description="A report computed from the database and its audit trail.",
    )
    report.add_argument("--since", type=_since, default=_since("7d"), help="period length: 24h, 7d, 4w")
    report.add_argument("--inbox", help="only this inbox")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")


async def _digest_send(settings: AppSettings, name: str) -> int:
    app = Threadline(settings, printer=stdout_printer)
    try:
        await app.prepare_database()
        await app.digests.send_now(name)
    except DigestError as exc:
        print(f"threadline: {exc}", file=sys.stderr)
        return 1
    finally:
        await app.store.close()
    return 0


async def _report(settings: AppSettings, args: argparse.Namespace) -> int:
    if args.inbox and args.inbox not in settings.inboxes:
        print(
            f"threadline: no inbox '{args.inbox}'; use one of: {', '.join(sorted(settings.inboxes))}",
            file=sys.stderr,
        )
        return 1
    from bot.clock import SystemClock

    until = SystemClock().now()
    store = Store(settings.threadline.database_url)
    if store.is_sqlite:  # the embedded database upgrades itself, as on `run`
        await upgrade(settings.threadline.database_url)
    try:
        async with store.snapshot() as uow:  # a long read: off the event loop on SQLite
            report = await build_report(uow, settings, until - args.since, until, args.inbox)
    finally:
        await store.close()
    print(render(report, args.format))
    return 0


async def run_sla_command(settings: AppSettings, args: argparse.Namespace) -> int:
    """Run ``digest send`` or ``report``; the exit status."""
    if args.command == "digest":
        return await _digest_send(settings, args.name)
    return await _report(settings, args)
