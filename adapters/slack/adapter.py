"""The Slack surface assembled: Web API client, outbound surface, bolt app with listeners, connection.

``threadline/plugs.py`` builds one ``SlackAdapter``, registers ``adapter.surface`` as the
``slack`` surface, binds it to the core, and starts it. Socket Mode is the default
(no public URL); in HTTP mode the shared web server mounts ``aiohttp_routes()``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import make_client
from adapters.slack.edits import SlackEdits
from adapters.slack.home import QueueSource, SlackHome
from adapters.slack.http import aiohttp_routes
from adapters.slack.inbound import AgentRegistrar, CustomerSide, LabelSource, SlackInbound
from adapters.slack.interactive import SlackInteractions
from adapters.slack.people import Directory
from adapters.slack.reactions import SlackReactions
from adapters.slack.settings import SlackSettings
from adapters.slack.surface import SlackSurface
from bot.commands import CommandPort
from bot.commands.edits import AgentEdits
from bot.ingest.journal import Journal
from bot.outbox.queue_views import ShowQueue

__all__ = ["SlackAdapter"]

log = logging.getLogger(__name__)
_BOLT_LOG = logging.getLogger("adapters.slack.bolt")


class _TokenInClient(logging.Filter):
    """Drops bolt's start-up warning that ``token`` is unused because a ``client`` was given.

    Threadline gives bolt its own client (base URL, retry handlers) holding the bot token; bolt
    also reads ``SLACK_BOT_TOKEN`` from the environment and then warns at every start, about
    nothing an operator could or should change.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for exactly that warning."""
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG.addFilter(_TokenInClient())


class _WithoutTraceback(logging.Filter):
    """The Slack SDK logs every failed connection attempt with its traceback; the app's connect loop
    already reports the failure once per change, so the SDK's records keep their message only."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_BOLT_LOG.addFilter(_WithoutTraceback())


class SlackAdapter:
    """Everything Slack: ``surface`` (outbound), ``app`` (bolt, inbound), and the connection."""

    def __init__(
        self,
        settings: SlackSettings,
        *,
        commands: CommandPort,
        journal: Journal,
        labels: LabelSource,
        register: AgentRegistrar,
        queue: QueueSource,
        show_queue: ShowQueue,
        edits: AgentEdits,
        chat_channels: Iterable[str] = (),
        prefix: str = "!",
        client: AsyncWebClient | None = None,
        intake: CustomerSide | None = None,
        dms: CustomerSide | None = None,
    ) -> None:
        """Built with what it drives in the core: its ``CommandPort`` (reactions run typed commands through
        it too), the intake journal, the label list, registration of mentioned teammates, ``queue``
        and ``show_queue`` (App Home, published through the outbox) and ``AgentEdits`` (agents editing
        or deleting their thread messages); with customers who write in Slack, ``intake`` (the intake
        channels of ``settings``) and ``dms`` (members' DMs to the app), built by the composition root."""
        self.settings = settings
        chat_channels = tuple(chat_channels)
        self.client = client or make_client(settings)
        self.surface = SlackSurface(self.client, settings)
        self.directory = Directory(self.client, settings, fallback_channels=chat_channels)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret or "socket-mode-requests-are-not-signed",
            request_verification_enabled=settings.mode == "http",
            # Listeners only filter, journal their work (``SlackInbound.journaled``) and ack, so running
            # them before the response makes "acknowledged" mean "committed to the journal".
            process_before_response=True,
            logger=_BOLT_LOG,
        )
        self.inbound = SlackInbound(
            self.app,
            self.surface,
            self.directory,
            command=settings.command,
            prefix=prefix,
            commands=commands,
            journal=journal,
            labels=labels,
            register=register,
            chat_channels=chat_channels,
            intake=intake,
            intake_channels=[c.channel for c in settings.intake_channels],
            dms=dms,
        )
        self.interactions = SlackInteractions(self.inbound)
        self.reactions = SlackReactions(self.inbound)
        self.home = SlackHome(self.inbound, queue, show_queue)
        self.edits = SlackEdits(self.inbound, edits)
        self._socket: AsyncSocketModeHandler | None = None

    def aiohttp_routes(self) -> list[web.RouteDef]:
        """HTTP mode: the routes for the shared web server (signature-verified by bolt)."""
        return aiohttp_routes(self.app, self.settings.http_path)

    async def start(self) -> None:
        """Socket Mode: open the WebSocket (bolt reconnects by itself). HTTP mode: nothing to start."""
        if self.settings.mode != "socket":
            return
        socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
        try:
            await socket.connect_async()
        except BaseException:
            await socket.close_async()  # a failed attempt leaves nothing running behind
            raise
        self._socket = socket
        log.info("slack socket mode connected")

    async def settle(self) -> None:
        """Wait until every acknowledged interaction has been handled."""
        await self.inbound.settle()

    async def stop(self) -> None:
        """Close the connection, finish acknowledged work, close the HTTP session."""
        if self._socket is not None:
            try:
                await self._socket.close_async()
            except Exception:
                log.warning("slack socket mode close failed", exc_info=True)
            self._socket = None
        await self.home.stop()
        await self.inbound.settle()
