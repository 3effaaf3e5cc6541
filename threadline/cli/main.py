"""The ``threadline`` command line: run, check-config, db; the other command groups have their own modules."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from adapters.email import parse_email  # rules test FILE.eml
from adapters.local import is_interactive, run_terminal
from bot.config import ConfigError
from bot.runtime import heap
from bot.runtime.logs import setup_logging
from storage.backup import BackupFailed, backup_database
from storage.db import DatabaseUnavailable
from storage.migrate import upgrade
from threadline.app import SchemaOutOfDate, Threadline, stdout_printer
from threadline.cli.auth import add_auth_commands, run_auth_command
from threadline.cli.automation import AUTOMATION_COMMANDS, add_automation_commands, run_automation_command
from threadline.cli.conversations import add_conversation_commands, run_conversation_command
from threadline.cli.doctor import run_doctor
from threadline.cli.reports import add_sla_commands, run_sla_command
from threadline.cli.resync import add_resync_command, run_resync_command
from threadline.config import AppSettings, config_warnings, load_config
from threadline.progress import ProgressDisplay

__all__ = ["main"]

_DEFAULT_CONFIGS = ("threadline.toml", "config.example.toml")


def _config_path(given: str | None) -> str:
    if given:
        return given
    if env := os.environ.get("THREADLINE_CONFIG"):
        return env
    return next((name for name in _DEFAULT_CONFIGS if Path(name).is_file()), _DEFAULT_CONFIGS[0])


def _load(args: argparse.Namespace) -> AppSettings:
    settings = load_config(_config_path(args.config))
    setup_logging(settings.threadline.log_level, settings.threadline.log_format)
    return settings


async def _run(settings: AppSettings, seconds: float | None) -> int:
    with ProgressDisplay() as shown:  # IMAP backlog reads, on a terminal
        app = Threadline(settings, printer=stdout_printer, progress=shown.track)
        return await _run_app(app, shown, seconds)


async def _run_app(app: Threadline, shown: ProgressDisplay, seconds: float | None) -> int:
    settings = app.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # graceful from the first moment (app.stop drains)
        loop.add_signal_handler(sig, stop.set)
    local = app.local if settings.surfaces.local is not None else None
    # when a person types here the prompt owns the screen: progress shows as its bottom toolbar
    status = shown.embed(stdout_printer) if local is not None and is_interactive() else None
    await app.start()
    heap.settle()  # the process runs for days: full collections should not rescan the startup heap
    if local is not None and settings.surfaces.local is not None:
        agent = settings.surfaces.local.agent
        stdout_printer(
            f"Threadline is running. Type #N to focus a conversation (#N before a command acts on N only),"
            f" {settings.threadline.command_prefix}help for commands, Ctrl-C to stop."
        )
        colour = local.palette.enabled
        await local.type_line(f"{settings.threadline.command_prefix}list open", agent)
        input_task = asyncio.create_task(
            run_terminal(local, agent, colour=colour, on_interrupt=stop.set, status=status)
        )
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
    finally:
        if local is not None:
            input_task.cancel()
        await app.stop()
    return 0


async def _db(settings: AppSettings, args: argparse.Namespace) -> int:
    if args.db_command == "upgrade":
        with ProgressDisplay() as shown:
            await upgrade(settings.threadline.database_url, shown.track("migrating the database"))
        print("database is at the newest schema")
        return 0
    try:
        done = await backup_database(settings.threadline.database_url, Path(args.file))
    except BackupFailed as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {done.path} ({done.size:,} bytes, {done.kind}); restore: docs/backup.md")
    return 0


def _print_now(line: str) -> None:
    print(line, flush=True)  # each check shows as it finishes, even through a pipe


def _version() -> str:
    try:
        return metadata.version("threadline")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="threadline", description="A shared support inbox in chat threads.")
    parser.add_argument("--version", action="version", version=f"threadline {_version()}")
    parser.add_argument(
        "--config",
        help="configuration file (default: $THREADLINE_CONFIG, ./threadline.toml, ./config.example.toml)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="start Threadline", description="Start every configured surface and channel."
    )
    run.add_argument(
        "--for", dest="seconds", type=float, help="stop after this many seconds (demos, smoke tests)"
    )
    check = sub.add_parser(
        "check-config",
        help="validate the configuration",
        description="Validate the configuration and print every problem with the key and the fix.",
    )
    check.add_argument(
        "--online", action="store_true", help="then try every credential and permission (as doctor does)"
    )
    sub.add_parser(
        "doctor",
        help="validate the configuration, then try every credential and permission for real",
        description="Check the configuration, then sign in to every configured surface and channel, "
        "check scopes, intents, channel membership and permissions, and say what to fix.",
    )
    add_sla_commands(sub)  # digest send NAME, report
    add_automation_commands(sub)  # rules test, contact export|forget
    add_auth_commands(sub)  # auth email NAME
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    backup = db_sub.add_parser("backup", help="write a consistent backup while Threadline runs")
    backup.add_argument("file", help="the new backup file (never overwritten)")
    add_conversation_commands(sub)  # conversations list|show
    add_resync_command(sub)  # resync #N … | --all
    _accept_anywhere(parser)
    return parser


def _accept_anywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--config`` stand after any subcommand too (``threadline check-config --config F``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _accept_anywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``threadline`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = _load(args)
        if args.command in ("check-config", "doctor"):
            for warning in config_warnings(Path(_config_path(args.config)).read_text(encoding="utf-8")):
                print(f"warning: {warning}", file=sys.stderr)
            print(
                f"{_config_path(args.config)}: configuration is valid "
                f"({len(settings.inboxes)} inbox(es), {len(settings.agents)} agent(s))"
            )
            if args.command == "doctor" or args.online:
                return asyncio.run(run_doctor(settings, _print_now))
            return 0
        if args.command == "run":
            return asyncio.run(_run(settings, args.seconds))
        if args.command == "db":
            return asyncio.run(_db(settings, args))
        if args.command in ("digest", "report"):
            return asyncio.run(run_sla_command(settings, args))
        if args.command == "auth":
            return asyncio.run(run_auth_command(settings, args))
        if args.command == "resync":
            return asyncio.run(run_resync_command(settings, args))
        if args.command in AUTOMATION_COMMANDS:
            return asyncio.run(
                run_automation_command(settings, args, lambda raw, inbox: parse_email(raw, inbox=inbox))
            )
        return asyncio.run(run_conversation_command(settings, args))
    except ConfigError as exc:
        print(f"{_config_path(args.config)} has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, SchemaOutOfDate) as exc:
        print(f"threadline: {exc}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # the reader went away (``… | head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at interpreter exit
        return 0
