"""The sign-in subcommand: ``threadline auth email NAME`` signs an OAuth2 mailbox in and stores it."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from typing import Any

from adapters.email.oauth_sign_in import sign_in_mailbox
from threadline.config import AppSettings

__all__ = ["add_auth_commands", "run_auth_command"]


def add_auth_commands(sub: Any) -> None:
    """Add the ``auth email NAME`` subcommand to the top-level subparsers."""
    auth = sub.add_parser("auth", help="sign a mailbox in (OAuth2)")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    email = auth_sub.add_parser(
        "email",
        help="sign mailbox NAME in and store its sign-in (encrypted)",
        description="Sign an OAuth2 mailbox in (Microsoft device code, Google browser sign-in) and store "
        "the refresh token encrypted with THREADLINE_SECRET_KEY; app-only mailboxes are checked.",
    )
    email.add_argument("name", help="the mailbox name under [channels.email.mailboxes]")
    email.add_argument("--no-browser", action="store_true", help="print the Google sign-in URL, open nothing")


def _print(text: str) -> None:
    print(text, flush=True)


async def run_auth_command(settings: AppSettings, args: argparse.Namespace) -> int:
    """Run ``auth email NAME``: 0 when signed in, 1 when refused, 2 for setup errors."""
    if isinstance(sys.stdout, io.TextIOWrapper):  # the code or URL must show at once, even through a pipe
        with contextlib.suppress(ValueError):
            sys.stdout.reconfigure(line_buffering=True)
    email = settings.channels.email
    mailboxes = dict(email.mailboxes) if email is not None else {}
    return await sign_in_mailbox(
        mailboxes, settings.threadline.database_url, args.name, out=_print, open_browser=not args.no_browser
    )
