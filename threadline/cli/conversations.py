"""``threadline conversations list|show``: conversations from the database, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.commands.listing import describe_conversation
from bot.commands.message_details import detail_lines
from bot.humanize import text_table
from storage import Store
from storage.repo_conversations import ConversationFilter
from threadline.config import AppSettings

__all__ = ["add_conversation_commands", "run_conversation_command"]


def add_conversation_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``conversations list`` and ``conversations show``."""
    conv = sub.add_parser("conversations", help="list or show conversations")
    conv_sub = conv.add_subparsers(dest="conv_command", required=True)
    lst = conv_sub.add_parser("list", help="list conversations")
    lst.add_argument("--status", choices=["open", "snoozed", "closed"])
    lst.add_argument("--label")
    lst.add_argument("--assignee", help="agent key, name or surface id")
    lst.add_argument(
        "--limit", type=int, default=50, help="at most this many (default 50; the rest is counted)"
    )
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    show = conv_sub.add_parser("show", help="show one conversation with its messages and audit trail")
    show.add_argument("number", type=lambda s: int(s.lstrip("#")))
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("--original", action="store_true", help="show messages with quotes and signatures")
    show.add_argument(
        "--raw", type=int, metavar="M", help="write message M's original bytes (raw MIME) to stdout"
    )


async def run_conversation_command(settings: AppSettings, args: argparse.Namespace) -> int:
    """Run ``conversations list`` or ``conversations show``."""
    if args.conv_command == "list":
        return await _list(settings, args)
    return await _show(settings, args)


async def _list(settings: AppSettings, args: argparse.Namespace) -> int:
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as uow:
            assignee_id = None
            if args.assignee:
                found = await uow.agents.find_agent(args.assignee)
                if not found:
                    print(f"no agent '{args.assignee}'", file=sys.stderr)
                    return 1
                assignee_id = found[0].id
            flt = ConversationFilter(
                status=args.status, label=args.label, assignee_id=assignee_id, limit=args.limit
            )
            rows = await uow.conversations.list_conversations(flt)
            total = await uow.conversations.count_matching(flt)
            if args.json:
                data = [await describe_conversation(uow, c) for c in rows]
                for item in data:
                    item.pop("messages"), item.pop("audit")
                print(json.dumps(data, indent=2, ensure_ascii=False))
            elif not rows:
                print("no conversations match")
            else:
                table = []
                for conv in rows:
                    assignee = (await uow.agents.agent(conv.assignee_id)).name if conv.assignee_id else "—"
                    labels = ", ".join(await uow.labels.labels_of(conv.id)) or "—"
                    opened = f"{conv.created_at:%Y-%m-%d}"
                    table.append(
                        (
                            f"#{conv.number}",
                            conv.status,
                            conv.priority,
                            assignee,
                            labels,
                            conv.channel,
                            opened,
                            conv.subject[:60],
                        )
                    )
                headers = ("#", "status", "priority", "assignee", "labels", "channel", "opened", "subject")
                print("\n".join(text_table(headers, table)))
            if total > len(rows):
                print(f"showing {len(rows)} of {total}; use --limit {total} to see all", file=sys.stderr)
    finally:
        await store.close()
    return 0


async def _show(settings: AppSettings, args: argparse.Namespace) -> int:
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as uow:
            conversation = await uow.conversations.conversation_by_number(args.number)
            if conversation is None:
                print(f"No conversation #{args.number}.", file=sys.stderr)
                return 1
            data = await describe_conversation(uow, conversation)
    finally:
        await store.close()
    if args.raw is not None:
        return await _write_raw(settings, args.number, args.raw)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_conversation(data, original=args.original)
    return 0


async def _write_raw(settings: AppSettings, number: int, index: int) -> int:
    """Write the original bytes (the raw MIME of an email) of the conversation's ``index``-th message."""
    store = Store(settings.threadline.database_url)
    try:
        async with store.transaction() as uow:
            conversation = await uow.conversations.conversation_by_number(number)
            messages = await uow.messages.messages_of(conversation.id) if conversation is not None else []
    finally:
        await store.close()
    if not messages:
        print(f"No conversation #{number}.", file=sys.stderr)
        return 1
    if not 1 <= index <= len(messages):
        print(f"#{number} has no message {index}: its messages are 1 to {len(messages)}", file=sys.stderr)
        return 1
    if messages[index - 1].raw is None:
        print(
            f"message {index} of #{number} has no original bytes (only email keeps its raw MIME); "
            f"see conversations show {number}",
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
        for line in detail_lines(message):
            print(f"    {line}")
    print("\n  audit trail:")
    for event in data["audit"]:
        print(f"    {event['at'][:19]} {event['actor']} {event['action']} {json.dumps(event['detail'])}")
