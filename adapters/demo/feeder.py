"""Feeds the sample conversations into the core, a few seconds apart, once per database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from adapters.demo.samples import SAMPLES, Sample
from bot.clock import Clock
from bot.ports.inbound import AutoKind, InboundAttachment, InboundMessage, IngestResult

__all__ = ["SampleFeeder"]

log = logging.getLogger(__name__)

_FILES = Path(__file__).resolve().parent / "samples"


def _external_id(sample: Sample) -> str:
    if sample.channel == "email":
        return f"<demo.{sample.key}@{sample.sender.rpartition('@')[2]}>"
    return f"wamid.DEMO{sample.key.upper().replace('-', '')}"


def _photo(sample: Sample) -> tuple[InboundAttachment, ...]:
    if sample.photo is None:
        return ()
    data = (_FILES / sample.photo).read_bytes()
    return (InboundAttachment(sample.photo, "image/jpeg", len(data), data),)


def _mail(sample: Sample, message_id: str, refs: tuple[str, ...], inbox_address: str, clock: Clock) -> bytes:
    """The sample as the real mail a customer would send, so ``--raw`` and ``--original`` show one."""
    mail = EmailMessage()
    mail["From"] = f"{sample.name} <{sample.sender}>"
    mail["To"] = inbox_address
    mail["Subject"] = sample.subject or ""
    mail["Date"] = format_datetime(clock.now())
    mail["Message-ID"] = message_id
    if refs:
        mail["In-Reply-To"] = refs[-1]
        mail["References"] = " ".join(refs)
    mail.set_content(sample.text)
    for attachment in _photo(sample):
        assert attachment.data is not None
        mail.add_attachment(attachment.data, maintype="image", subtype="jpeg", filename=attachment.filename)
    return mail.as_bytes()


class SampleFeeder:
    """Delivers the samples to the inboxes of their channel; external ids make a rerun a no-op."""

    def __init__(
        self,
        ingest: Callable[[InboundMessage], Awaitable[IngestResult]],
        inboxes: dict[str, tuple[str, str]],
        clock: Clock,
        interval: float = 2.0,
    ) -> None:
        self.ingest = ingest
        self.inboxes = inboxes  # channel -> (inbox name, inbox address)
        self.clock = clock
        self.interval = interval

    def messages(self) -> list[InboundMessage]:
        """The samples as inbound messages, for the inboxes that exist."""
        out = []
        for sample in SAMPLES:
            if sample.channel not in self.inboxes:
                continue
            inbox, address = self.inboxes[sample.channel]
            refs: tuple[str, ...] = ()
            if sample.answers is not None:
                refs = (_external_id(next(s for s in SAMPLES if s.key == sample.answers)),)
            external_id = _external_id(sample)
            mail = sample.channel == "email"
            out.append(
                InboundMessage(
                    channel=sample.channel,
                    inbox=inbox,
                    external_id=external_id,
                    sender_address=sample.sender,
                    sender_name=sample.name,
                    received_at=self.clock.now(),
                    text=sample.text,
                    original_text=sample.text,
                    raw=_mail(sample, external_id, refs, address, self.clock) if mail else None,
                    attachments=_photo(sample),
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
