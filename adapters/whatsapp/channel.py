"""The WhatsApp channel: webhook receiver, the worker that turns deliveries into core calls, and the sender.

``threadline/plugs.py`` builds one ``WhatsAppChannel``, mounts ``routes()`` on the shared web
server, registers ``sender`` as the ``whatsapp`` channel sender, and calls
``start()``/``stop()``. The webhook journals each body before its 200; the journal worker
hands it to ``process_entry``, which parses it, downloads media (the URLs are short-lived;
never again for a message already stored), and hands messages to ``ingest`` and receipts
to ``apply_status``; the core deduplicates on (channel, wamid).
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from adapters.whatsapp.graph import GraphClient, MediaTooLarge
from adapters.whatsapp.payload import ParsedMessage, StatusUpdate, ordering_key, parse_webhook
from adapters.whatsapp.sender import WhatsAppSender, recipient_fields
from adapters.whatsapp.settings import WhatsAppSettings
from adapters.whatsapp.webhook import WebhookReceiver
from bot.ingest.journal import BadEntry, Journal, JournalItem
from bot.ports import DeliveryError, Remedy, SentParts
from bot.ports.inbound import InboundAttachment, InboundMessage, IngestResult
from bot.runtime import metrics
from bot.views import OutboundView

__all__ = [
    "JOURNAL_SOURCE",
    "PHONE",
    "WHATSAPP_USER",
    "ApplyStatus",
    "Ingest",
    "IsStored",
    "WhatsAppChannel",
    "to_inbound",
]

log = logging.getLogger(__name__)

Ingest = Callable[[InboundMessage], Awaitable[IngestResult]]
"""The core's ``Ingestor.ingest``."""

ApplyStatus = Callable[[str, str, str, "str | None", Remedy], Awaitable[str]]
"""The core's ``DeliveryStatusService.apply(channel, external_id, status, error, remedy)`` → a
``StatusOutcome``."""

IsStored = Callable[[str, str], Awaitable[bool]]
"""The core's ``Ingestor.is_stored(channel, external_id)``."""

JOURNAL_SOURCE = "whatsapp"
"""The intake journal's source name of webhook bodies."""

PHONE = "phone"
"""The contact identity kind of a WhatsApp phone number (``wa_id``), shared with SMS-like channels."""
WHATSAPP_USER = "whatsapp_user"
"""The contact identity kind of a business-scoped user id (``user_id``), e.g. ``US.13491208655302741918``."""

_UNKNOWN_MESSAGE = "unknown_message"  # bot.ingest.statuses.StatusOutcome.UNKNOWN_MESSAGE

_STATUS_RETRY_SECONDS = 5.0
_STATUS_KEEP_SECONDS = 600.0
_STATUSES_KEPT = 1000
_LAST_INBOUND_KEPT = 5000


def _filename(parsed: ParsedMessage, mime: str) -> str:
    media = parsed.media
    assert media is not None
    if media.filename:
        return media.filename
    extension = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
    return f"{media.kind}-{media.media_id}{extension}"


def to_inbound(
    parsed: ParsedMessage, inbox: str, attachment: InboundAttachment | None = None
) -> InboundMessage:
    """The core's ``InboundMessage`` for a parsed WhatsApp message."""
    extra = {"whatsapp_type": parsed.kind}
    if parsed.context_id:
        extra["in_reply_to"] = parsed.context_id
    if parsed.choice:
        extra["choice"] = parsed.choice
    return InboundMessage(
        channel="whatsapp",
        inbox=inbox,
        external_id=parsed.wamid,
        sender_address=parsed.sender,
        sender_identities=tuple(
            (kind, value) for kind, value in ((PHONE, parsed.wa_id), (WHATSAPP_USER, parsed.user_id)) if value
        ),
        sender_name=parsed.profile_name or parsed.username,
        received_at=parsed.timestamp,
        text=parsed.text,
        attachments=(attachment,) if attachment is not None else (),
        match_open_by_contact=True,
        quotes=parsed.context_id,
        reacts_to=parsed.reacts_to,
        extra=extra,
    )


def _unrouted(phone_number_id: str, messages: int, statuses: int) -> None:
    """Say loudly that a delivery for a number no inbox is configured for was not stored."""
    log.error(
        "whatsapp webhook for a phone number Threadline does not serve; not stored. Add it under "
        "[channels.whatsapp.numbers], or unsubscribe the app from that number's account",
        extra={"phone_number_id": phone_number_id[:40], "messages": messages, "statuses": statuses},
    )
    for kind, count in (("message", messages), ("status", statuses)):
        if count:
            metrics.inc(metrics.WEBHOOKS_UNROUTED, count, channel="whatsapp", kind=kind)


class _ReadingSender(WhatsAppSender):
    """The sender, plus "mark as read" of the customer's last message when a reply goes out (if enabled)."""

    def __init__(self, settings: WhatsAppSettings, graph: GraphClient) -> None:
        super().__init__(settings, graph)
        self.last_inbound: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def saw_inbound(self, parsed: ParsedMessage) -> None:
        """Remember the customer's newest message id, by phone and by user id."""
        for key in filter(None, (parsed.wa_id, parsed.user_id)):
            self.last_inbound[key] = (parsed.wamid, parsed.phone_number_id)
            self.last_inbound.move_to_end(key)
        while len(self.last_inbound) > _LAST_INBOUND_KEPT:
            self.last_inbound.popitem(last=False)

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Send, then mark the customer's last message read (best effort)."""
        wamid = await super().send(message, parts)
        if self.settings.mark_read_on_claim:
            [address] = recipient_fields(message.to_address).values()
            last = self.last_inbound.pop(address, None)
            if last is not None:
                await self.graph.mark_read(*last)
        return wamid


class WhatsAppChannel:
    """Everything of one WhatsApp business number."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        journal: Journal,
        ingest: Ingest,
        apply_status: ApplyStatus,
        is_stored: IsStored,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.ingest = ingest
        self.apply_status = apply_status
        self.is_stored = is_stored
        self.graph = GraphClient(settings)
        self.sender = _ReadingSender(settings, self.graph)
        self.receiver = WebhookReceiver(settings, self._record)
        journal.handle(JOURNAL_SOURCE, self.process_entry)
        self._retrier: asyncio.Task[None] | None = None
        # receipts for a wamid not stored yet (the webhook can beat the outbox recording the send)
        self.unmatched: OrderedDict[tuple[str, str], tuple[StatusUpdate, float]] = OrderedDict()

    def routes(self) -> list[web.RouteDef]:
        """The webhook routes to mount on the shared web server."""
        return self.receiver.routes()

    async def _record(self, body: bytes) -> None:
        await self.journal.record(JOURNAL_SOURCE, body, order=ordering_key(body))  # one sender's in order

    async def start(self) -> None:
        """Start the task that retries receipts which arrived before their send was recorded."""
        if self._retrier is None:
            self._retrier = asyncio.create_task(self._retry_loop(), name="whatsapp-status-retry")

    async def stop(self) -> None:
        """Stop the retry task, close the HTTP session (the journal drains deliveries)."""
        if self._retrier is not None:
            self._retrier.cancel()
            await asyncio.gather(self._retrier, return_exceptions=True)
            self._retrier = None
        await self.graph.close()

    async def idle(self) -> None:
        """Wait until every accepted delivery has been processed (tests, benchmarks)."""
        await self.journal.idle()

    async def process_entry(self, item: JournalItem) -> None:
        """Handle one journaled webhook body: apply its statuses, ingest its messages.

        Statuses come first: applying one again changes nothing. The body's last message
        carries the entry's id, so ingest marks the entry done in the transaction that
        stores it; its earlier messages are duplicates (dropped) if the entry runs again.
        """
        try:
            payload: Any = json.loads(item.payload)
        except ValueError as exc:
            raise BadEntry(f"the webhook body is not JSON ({exc})") from exc
        batch = parse_webhook(payload)
        unrouted: dict[str, list[int]] = {}
        for status in batch.statuses:
            if self.settings.inbox_of(status.phone_number_id) is None:
                unrouted.setdefault(str(status.phone_number_id), [0, 0])[1] += 1
            else:
                await self._status(status)
        ours: list[tuple[ParsedMessage, str]] = []
        for parsed in batch.messages:
            inbox = self.settings.inbox_of(parsed.phone_number_id)
            if inbox is None:
                unrouted.setdefault(str(parsed.phone_number_id), [0, 0])[0] += 1
            else:
                ours.append((parsed, inbox))
        for position, (parsed, inbox) in enumerate(ours, start=1):
            message = to_inbound(parsed, inbox, await self._attachment(parsed))
            if position == len(ours):
                message = replace(message, journal_id=item.id)
            result = await self.ingest(message)
            if result.duplicate:
                log.info("duplicate whatsapp message dropped", extra={"inbox": message.inbox})
            self.sender.saw_inbound(parsed)
        for number, (messages, statuses) in unrouted.items():
            _unrouted(number, messages, statuses)

    async def _status(self, status: StatusUpdate) -> None:
        outcome = await self.apply_status(
            "whatsapp", status.wamid, status.status, status.error, status.remedy
        )
        if outcome == _UNKNOWN_MESSAGE:
            self.unmatched[(status.wamid, status.status)] = (status, asyncio.get_running_loop().time())
            while len(self.unmatched) > _STATUSES_KEPT:
                self.unmatched.popitem(last=False)

    async def retry_unmatched_statuses(self) -> int:
        """Apply again receipts that found no message yet; forget old ones. Returns how many now matched."""
        now, matched = asyncio.get_running_loop().time(), 0
        for key, (status, seen) in list(self.unmatched.items()):
            outcome = await self.apply_status(
                "whatsapp", status.wamid, status.status, status.error, status.remedy
            )
            if outcome != _UNKNOWN_MESSAGE:
                matched += 1
                self.unmatched.pop(key, None)
            elif now - seen > _STATUS_KEEP_SECONDS:
                self.unmatched.pop(key, None)
        return matched

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(_STATUS_RETRY_SECONDS)
            if self.unmatched:
                try:
                    await self.retry_unmatched_statuses()
                except Exception:
                    log.exception("retrying whatsapp statuses failed")

    async def _attachment(self, parsed: ParsedMessage) -> InboundAttachment | None:
        media = parsed.media
        if media is None or await self.is_stored("whatsapp", parsed.wamid):
            return None  # a redelivery of a stored message: its media were kept the first time
        limit = self.settings.max_media_bytes
        try:
            downloaded = await self.graph.download_media(media.media_id, limit)
        except MediaTooLarge as exc:
            name = _filename(parsed, media.mime_type)
            return InboundAttachment(name, media.mime_type, exc.size, too_large=True)
        except DeliveryError as exc:
            log.warning(
                "whatsapp media download failed", extra={"kind": media.kind, "reason": exc.reason[:200]}
            )
            return InboundAttachment(
                _filename(parsed, media.mime_type),
                media.mime_type,
                0,
                error=f"download failed: {exc.reason}; ask the customer to send it again",
            )
        mime = downloaded.mime_type or media.mime_type
        return InboundAttachment(_filename(parsed, mime), mime, len(downloaded.data), data=downloaded.data)
