"""Feeds the sample conversations into the core, a few seconds apart, once per database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from adapters.demo.samples import SAMPLES, Sample
from bot.clock import Clock
from bot.ports.inbound import AutoKind, InboundMessage, IngestResult

__all__ = ["SampleFeeder"]

log = logging.getLogger(__name__)


def _external_id(sample: Sample) -> str:
    if sample.channel == "email":
        return f"<demo.{sample.key}@{sample.sender.rpartition('@')[2]}>"
    return f"wamid.DEMO{sample.key.upper().replace('-', '')}"


class SampleFeeder:
    """Delivers the samples to the inboxes of their channel; external ids make a rerun a no-op."""

    def __init__(
        self,
        ingest: Callable[[InboundMessage], Awaitable[IngestResult]],
        inboxes: dict[str, str],
        clock: Clock,
        interval: float = 2.0,
    ) -> None:
        self.ingest = ingest
        self.inboxes = inboxes  # channel -> inbox name
        self.clock = clock
        self.interval = interval

    def messages(self) -> list[InboundMessage]:
        """The samples as inbound messages, for the inboxes that exist."""
        out = []
        for sample in SAMPLES:
            inbox = self.inboxes.get(sample.channel)
            if inbox is None:
                continue
            refs: tuple[str, ...] = ()
            if sample.answers is not None:
                refs = (_external_id(next(s for s in SAMPLES if s.key == sample.answers)),)
            out.append(
                InboundMessage(
                    channel=sample.channel,
                    inbox=inbox,
                    external_id=_external_id(sample),
                    sender_address=sample.sender,
                    sender_name=sample.name,
                    received_at=self.clock.now(),
                    text=sample.text,
                    subject=sample.subject,
                    thread_refs=refs,
                    match_open_by_contact=sample.channel == "whatsapp",
                    auto_kind=AutoKind.AUTO_REPLY if sample.auto_reply else None,
                )
            )
        return out

    async def run(self) -> None:
        """Ingest the samples one by one with a pause between them."""
        for message in self.messages():
            await asyncio.sleep(self.interval)
            try:
                await self.ingest(message)
            except Exception:
                log.exception("sample message could not be ingested")
