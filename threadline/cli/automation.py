"""``threadline rules test FILE.eml`` and ``threadline contact export|forget ID``.

The email parser is handed in by ``threadline.cli`` (the composition side), so this module
stays core-only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from adapters.local import erase_saved_files
from bot.automation import explain
from bot.contacts import find_contact
from bot.ports.inbound import InboundMessage
from bot.privacy.service import ForgetResult, export_contact, forget_contact
from storage import Store
from storage.migrate import upgrade
from threadline.config import AppSettings
from threadline.progress import ProgressDisplay

__all__ = ["AUTOMATION_COMMANDS", "EmailParser", "add_automation_commands", "run_automation_command"]

EmailParser = Callable[[bytes, str], InboundMessage]
"""Parses raw mail for an inbox (``adapters.email.parse_email``, wrapped by the CLI)."""

AUTOMATION_COMMANDS = ("rules", "contact")
"""Top-level CLI commands this module handles."""


def add_automation_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules test`` and ``contact export|forget`` to the CLI."""
    rules = sub.add_parser("rules", help="test the automation rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    test = rules_sub.add_parser("test", help="show which rules would fire on a saved email, and why")
    test.add_argument("file", help="a message saved as .eml")
    test.add_argument("--inbox", help="the inbox it arrives in (default: the first email inbox)")
    test.add_argument("--existing", action="store_true", help="as a follow-up in an existing conversation")
    contact = sub.add_parser("contact", help="privacy: export or forget a contact")
    contact_sub = contact.add_subparsers(dest="contact_command", required=True)
    for name, text in (("export", "print all data about a contact as JSON"), ("forget", "erase a contact")):
        cmd = contact_sub.add_parser(name, help=text)
        cmd.add_argument("contact", help="contact id (17 or id:17), an email address, a phone, or #42")
        if name == "forget":
            cmd.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")


async def run_automation_command(settings: AppSettings, args: argparse.Namespace, parse: EmailParser) -> int:
    """Run a command added by ``add_automation_commands``; the exit status."""
    if args.command == "rules":
        return _rules_test(settings, args, parse)
    ref = args.contact if not args.contact.isdigit() else f"id:{args.contact}"
    url = settings.threadline.database_url
    store = Store(url)
    try:
        if store.is_sqlite:
            await upgrade(url)
        async with store.transaction() as uow:
            contact = await find_contact(uow, ref)
            if contact is None:
                print(f"no contact '{args.contact}'", file=sys.stderr)
                return 1
            if args.contact_command == "export":
                with ProgressDisplay() as shown:
                    data = await export_contact(uow, contact.id, shown.track("exporting conversations"))
                print(json.dumps(data, indent=2, ensure_ascii=False))
                return 0
            if not args.yes:
                print(
                    f"this erases contact id:{contact.id} and its messages everywhere; run again with --yes",
                    file=sys.stderr,
                )
                return 1
            from bot.clock import SystemClock

            with ProgressDisplay() as shown:
                result = await forget_contact(
                    uow,
                    settings,
                    contact.id,
                    "threadline cli",
                    SystemClock().now(),
                    shown.track("erasing conversations"),
                )
            assert result is not None
        kept = await _erase_kept_copies(settings, result)
        print(
            f"contact id:{result.contact_id} forgotten: {result.conversations} conversation(s) anonymised, "
            f"{result.redactions} thread message(s) queued for deletion on the surfaces, "
            f"{kept} kept cop(ies) of replies and attachments erased"
        )
        return 0
    finally:
        await store.close()


async def _erase_kept_copies(settings: AppSettings, result: ForgetResult) -> int:
    """Erase what the transports and the terminal keep of the contact (spool folder, demo files)."""
    from threadline.app import Threadline  # the channels as the running app builds them

    app = Threadline(settings)
    try:
        erased = 0
        for channel, external_ids in result.sent.items():
            if (sender := app.channels.get(channel)) is not None:
                erased += await sender.erase(external_ids)
        local = settings.surfaces.local
        if local is not None and local.files_dir:
            erased += erase_saved_files(Path(local.files_dir), result.numbers)
        return erased
    finally:
        await app.store.close()


def _rules_test(settings: AppSettings, args: argparse.Namespace, parse: EmailParser) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    inbox = args.inbox or next((n for n, i in settings.inboxes.items() if i.channel == "email"), None)
    if inbox is None or inbox not in settings.inboxes:
        print(f"no inbox '{args.inbox}'; use one of: {', '.join(settings.inboxes)}", file=sys.stderr)
        return 1
    msg = parse(path.read_bytes(), inbox)
    print(f'{path.name}: from {msg.sender_address} · subject "{msg.subject or ""}" · inbox {inbox}')
    if msg.auto_kind:
        print(f"  note: this is {msg.auto_kind} mail — auto_reply actions never answer it")
    if not settings.rules:
        print("  no rules are configured ([[rules]] in the config)")
        return 0
    fired = 0
    for index, verdict in enumerate(explain(settings, msg, new_conversation=not args.existing)):
        mark = "✔ fires" if verdict.fired else "✘ no"
        print(f"  rules[{index}] {verdict.rule.name!r}: {mark} — {'; '.join(verdict.reasons)}")
        if verdict.fired:
            fired += 1
            print(f"      then: {_actions(verdict.rule)}")
    print(f"{fired} rule(s) would fire")
    return 0


def _actions(rule: object) -> str:
    names = ("route_to", "add_labels", "priority", "assign", "note", "auto_reply")
    parts = [f"{n} = {getattr(rule, n)!r}" for n in names if getattr(rule, n)]
    return ", ".join(parts) + (" (and stop)" if getattr(rule, "stop", False) else "")
