"""The ``threadline`` command line: run, check-config, db upgrade, auth email, conversations list/show."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.email import parse_email  # rules test FILE.eml
from adapters.email.auth_command import add_auth_commands, run_auth_command
from adapters.local import read_stdin_lines
from bot import heap
from bot.app import SchemaOutOfDate, Threadline, stdout_printer
from bot.cli_automation import AUTOMATION_COMMANDS, add_automation_commands, run_automation_command
from bot.cli_sla import add_sla_commands, run_sla_command
from bot.config import ConfigError, Settings, load_config
from bot.listing import describe_conversation, format_line
from bot.logs import setup_logging
from storage import Store
from storage.db import DatabaseUnavailable
from storage.migrate import upgrade
from storage.repository import ConversationFilter

__all__ = ["main"]

_DEFAULT_CONFIGS = ("threadline.toml", "config.example.toml")


def _config_path(given: str | None) -> str:
    if given:
        return given
    if env := os.environ.get("THREADLINE_CONFIG"):
        return env
    return next((name for name in _DEFAULT_CONFIGS if Path(name).is_file()), _DEFAULT_CONFIGS[0])


def _load(args: argparse.Namespace) -> Settings:
    settings = load_config(_config_path(args.config))
    setup_logging(settings.threadline.log_level, settings.threadline.log_format)
    return settings


async def _run(settings: Settings, seconds: float | None) -> int:
    app = Threadline(settings, printer=stdout_printer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # graceful from the first moment (app.stop drains)
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    heap.settle()  # the process runs for days: full collections should not rescan the startup heap
    local = app.local
    if local is not None and settings.surfaces.local is not None:
        agent = settings.surfaces.local.agent
        stdout_printer(
            f"Threadline is running. Type #N to focus a conversation, {settings.threadline.command_prefix}"
            "help for commands, Ctrl-C to stop."
        )
        input_task = asyncio.create_task(read_stdin_lines(lambda line: local.type_line(line, agent)))
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
    finally:
        if local is not None:
            input_task.cancel()
        await app.stop()
    return 0


async def _db_upgrade(settings: Settings) -> int:
    await upgrade(settings.threadline.database_url)
    print("database is at the newest schema")
    return 0


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as repo:
            assignee_id = None
            if args.assignee:
                found = await repo.find_agent(args.assignee)
                if not found:
                    print(f"no agent '{args.assignee}'", file=sys.stderr)
                    return 1
                assignee_id = found[0].id
            rows = await repo.list_conversations(
                ConversationFilter(
                    status=args.status, label=args.label, assignee_id=assignee_id, limit=args.limit
                )
            )
            if args.json:
                data = [await describe_conversation(repo, c) for c in rows]
                for item in data:
                    item.pop("messages"), item.pop("audit")
                print(json.dumps(data, indent=2, ensure_ascii=False))
            else:
                for conv in rows:
                    print(format_line(conv))
                if not rows:
                    print("no conversations match")
    finally:
        await store.close()
    return 0


async def _show(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as repo:
            conversation = await repo.conversation_by_number(args.number)
            if conversation is None:
                print(f"No conversation #{args.number}.", file=sys.stderr)
                return 1
            data = await describe_conversation(repo, conversation)
    finally:
        await store.close()
    if args.raw is not None:
        return await _write_raw(settings, args.number, args.raw)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_conversation(data, original=args.original)
    return 0


async def _write_raw(settings: Settings, number: int, index: int) -> int:
    """Write the original bytes (the raw MIME of an email) of the conversation's ``index``-th message."""
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as repo:
            conversation = await repo.conversation_by_number(number)
            messages = await repo.messages_of(conversation.id) if conversation is not None else []
    finally:
        await store.close()
    if not 1 <= index <= len(messages) or messages[index - 1].raw is None:
        print(
            f"#{number} has no original bytes for message {index}; see conversations show {number}",
            file=sys.stderr,
        )
        return 1
    sys.stdout.buffer.write(messages[index - 1].raw or b"")
    return 0


def _print_conversation(data: dict[str, Any], *, original: bool = False) -> None:
    print(f'#{data["number"]} · {data["channel"]} · {data["inbox"]} · "{data["subject"]}"')
    print(
        f"  {data['status']} · assignee {data['assignee'] or '—'} · labels {', '.join(data['labels']) or '—'}"
        f" · priority {data['priority']}"
    )
    print(f"  contact: {data['contact']['name'] or ''} {' '.join(data['contact']['identities'])}")
    for index, message in enumerate(data["messages"], 1):
        status = f" [{message['delivery_status']}]" if message["delivery_status"] else ""
        raw = f" (raw: --raw {index})" if message["has_raw"] else ""
        when, kind, author = message["created_at"][:16], message["kind"], message["author"] or ""
        print(f"\n  {index}. {when} {kind} · {author}{status}{raw}")
        text = (message["original_text"] or message["text"]) if original else message["text"]
        for line in text.splitlines():
            print(f"    {line}")
        if message["original_text"] and not original:
            print("    (quoted history and signature hidden: --original shows them)")
    print("\n  audit trail:")
    for event in data["audit"]:
        print(f"    {event['at'][:19]} {event['actor']} {event['action']} {json.dumps(event['detail'])}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="threadline", description="A shared support inbox in chat threads.")
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
    sub.add_parser(
        "check-config",
        help="validate the configuration",
        description="Validate the configuration and print every problem with the key and the fix.",
    )
    add_sla_commands(sub)  # digest send NAME, report
    add_automation_commands(sub)  # rules test, contact export|forget
    add_auth_commands(sub)  # auth email NAME
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    conv = sub.add_parser("conversations", help="list or show conversations")
    conv_sub = conv.add_subparsers(dest="conv_command", required=True)
    lst = conv_sub.add_parser("list", help="list conversations")
    lst.add_argument("--status", choices=["open", "snoozed", "closed"])
    lst.add_argument("--label")
    lst.add_argument("--assignee", help="agent key, name or surface id")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    show = conv_sub.add_parser("show", help="show one conversation with its messages and audit trail")
    show.add_argument("number", type=lambda s: int(s.lstrip("#")))
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("--original", action="store_true", help="show messages with quotes and signatures")
    show.add_argument(
        "--raw", type=int, metavar="M", help="write message M's original bytes (raw MIME) to stdout"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``threadline`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = _load(args)
        if args.command == "check-config":
            print(
                f"{_config_path(args.config)}: configuration is valid "
                f"({len(settings.inboxes)} inbox(es), {len(settings.agents)} agent(s))"
            )
            return 0
        if args.command == "run":
            return asyncio.run(_run(settings, args.seconds))
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command in ("digest", "report"):
            return asyncio.run(run_sla_command(settings, args))
        if args.command == "auth":
            email = settings.channels.email
            mailboxes = dict(email.mailboxes) if email is not None else {}
            return asyncio.run(run_auth_command(mailboxes, settings.threadline.database_url, args))
        if args.command in AUTOMATION_COMMANDS:
            return asyncio.run(
                run_automation_command(settings, args, lambda raw, inbox: parse_email(raw, inbox=inbox))
            )
        if args.conv_command == "list":
            return asyncio.run(_list(settings, args))
        return asyncio.run(_show(settings, args))
    except ConfigError as exc:
        print(f"{_config_path(args.config)} has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, SchemaOutOfDate) as exc:
        print(f"threadline: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
