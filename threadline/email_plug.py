"""The email channel as a plug: IMAP mailboxes (or spool folders) in, SMTP (or an outgoing folder) out.

Built from ``[channels.email]`` and the core's ports like every plug. Its mailbox readers run under
the leases operations hands out at start (``RunPorts.under_lease``), so on PostgreSQL only one
instance reads a mailbox; operations stops them before the outbox drains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.email.oauth_tokens import MailboxTokens
from adapters.email.settings import EmailSettings
from adapters.email.wiring import EmailSource, build_email_sender, build_email_sources, build_mailbox_tokens
from bot.outbox.pacing import SurfacePace
from bot.ports import ChannelSender, Surface
from bot.ports.progress import ProgressCallback
from bot.runtime.health import Probe
from threadline.plug_ports import CorePorts, RunPorts

__all__ = ["EmailPlug"]


class EmailPlug:
    """The email channel: one reader per configured mailbox, and the reply sender (if outbound is set)."""

    name = "email"
    surface: Surface | None = None
    pace: SurfacePace | None = None

    def __init__(
        self,
        ports: CorePorts,
        settings: EmailSettings,
        progress: Callable[[str], ProgressCallback] | None = None,
    ) -> None:
        core = ports.settings
        self.settings = settings
        # OAuth2 mailboxes: one access token each, shared by the mailbox's reader and SMTP
        self.tokens: dict[str, MailboxTokens] = build_mailbox_tokens(settings, ports.store, clock=ports.clock)
        self.sender: ChannelSender | None = build_email_sender(
            settings,
            inbox_names={key: core.inbox_display(key) for key in core.inboxes},
            inbox_addresses=[inbox.address for inbox in core.inboxes.values()],
            clock=ports.clock,
            tokens=self.tokens,
        )
        self.sources: list[EmailSource] = build_email_sources(
            settings,
            inbox_addresses={key: inbox.address for key, inbox in core.inboxes.items()},
            ingest=ports.ingestor.ingest,
            load_cursor=ports.ingestor.load_cursor,
            save_cursor=ports.ingestor.save_cursor,
            clock=ports.clock,
            tokens=self.tokens,
            progress=progress,
        )

    def routes(self) -> list[Any]:
        """None: mail is read from the servers, not posted to us."""
        return []

    def ready(self) -> Probe | None:
        """None here: each mailbox's state is shown under ``mailbox:<name>`` by operations."""
        return None

    async def start(self, ports: RunPorts) -> None:
        """Run each mailbox's reader, under its lease (IMAP IDLE or polling, or a spool folder)."""
        for number, (name, source) in enumerate(zip(self.settings.mailboxes, self.sources, strict=True)):
            ports.spawn(f"email-source-{number}", ports.under_lease(name, source).run())

    async def stop(self) -> None:
        """Stop any reader still running (operations stopped them before the outbox drained)."""
        for source in self.sources:
            await source.stop()
