"""The folder transport: replies written as .eml files, and a spool directory of .eml files read as mail.

It lets the product run end to end without any mail server or credentials (the demo),
and gives tests a transport they can inspect with ``ls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from email.parser import BytesHeaderParser
from pathlib import Path

from adapters.email.compose import ReplyComposer
from bot.clock import Clock, SystemClock
from bot.ports import PermanentDeliveryError, SentParts, TransientDeliveryError
from bot.ports.inbound import ChannelCursor, InboundMessage, IngestResult
from bot.views import OutboundView

__all__ = ["FolderSender", "FolderSource"]

log = logging.getLogger(__name__)
_counter = itertools.count(1)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FolderSender:
    """A ``ChannelSender`` that writes ``<dir>/<timestamp>-<n>-#<number>.eml`` instead of sending.

    Idempotent per outbound uid: a marker in ``<dir>/.sent/`` remembers the file name
    chosen for a uid, so a retry rewrites or keeps that one file and never adds a second.
    """

    channel = "email"

    def __init__(
        self, directory: str | Path, composer: ReplyComposer | None = None, clock: Clock | None = None
    ):
        self.directory = Path(directory)
        self.composer = composer or ReplyComposer()
        self.clock = clock or SystemClock()

    def _send_sync(self, message: OutboundView) -> str:
        email = self.composer(message)
        message_id = str(email["Message-ID"])
        markers = self.directory / ".sent"
        markers.mkdir(parents=True, exist_ok=True)
        marker = markers / hashlib.sha256(message.uid.encode()).hexdigest()[:32]
        if marker.exists():
            name = marker.read_text().strip()
        else:
            stamp = self.clock.now().strftime("%Y%m%dT%H%M%S")
            name = f"{stamp}-{next(_counter):04d}-#{message.conversation_number}.eml"
            _write_atomic(marker, name.encode())
        target = self.directory / name
        if not target.exists():
            _write_atomic(target, email.as_bytes())
        return message_id

    def _erase_sync(self, external_ids: Collection[str]) -> int:
        wanted, erased = set(external_ids), 0
        names = set()
        for path in sorted(self.directory.glob("*.eml")):
            with path.open("rb") as file:
                headers = BytesHeaderParser().parse(file)
            if str(headers.get("Message-ID", "")).strip() in wanted:
                names.add(path.name)
                path.unlink(missing_ok=True)
                erased += 1
        for marker in (self.directory / ".sent").glob("*"):
            if marker.read_text().strip() in names:
                marker.unlink(missing_ok=True)
        return erased

    async def erase(self, external_ids: Collection[str]) -> int:
        """Delete the .eml files of these sent messages (by Message-ID) and their markers."""
        if not external_ids or not self.directory.is_dir():
            return 0
        return await asyncio.to_thread(self._erase_sync, external_ids)

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Write the reply as an .eml file; return its Message-ID (writing it again replaces the file,
        so ``parts`` is not needed)."""
        try:
            message_id = await asyncio.to_thread(self._send_sync, message)
        except ValueError as exc:
            raise PermanentDeliveryError(f"cannot build the email: {exc}") from exc
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write to {self.directory}: {exc}") from exc
        log.info("reply written to folder", extra={"outbound_uid": message.uid, "message_id": message_id})
        return message_id


class FolderSource:
    """Reads ``*.eml`` files from a spool directory in name order, ingests them, moves them to ``processed/``.

    The cursor (``folder:<mailbox>`` = last file name) travels with each message so the
    core records it; files are moved only after ingest succeeded, so a crash re-reads a
    file and the core's Message-ID dedupe drops the repeat.
    """

    def __init__(
        self,
        path: str | Path,
        mailbox: str,
        *,
        ingest: Callable[[InboundMessage], Awaitable[IngestResult]],
        parse: Callable[[bytes], InboundMessage],
        is_own: Callable[[bytes], bool] | None = None,
        clock: Clock | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.processed = self.path / "processed"
        self.cursor_key = f"folder:{mailbox}"
        self.ingest, self.parse, self.is_own = ingest, parse, is_own
        self.clock = clock or SystemClock()
        self.poll_interval = poll_interval
        self._stopped = asyncio.Event()

    def _pending(self) -> list[Path]:
        self.processed.mkdir(parents=True, exist_ok=True)
        return sorted(
            p
            for p in self.path.iterdir()
            if p.suffix == ".eml" and not p.name.startswith(".") and p.is_file()
        )

    def _done(self, file: Path) -> None:
        target = self.processed / file.name
        if target.exists():
            target = self.processed / f"{file.stem}-{os.getpid()}-{next(_counter)}{file.suffix}"
        os.replace(file, target)

    async def scan_once(self) -> int:
        """Ingest every file waiting in the spool; return how many were ingested."""
        count = 0
        for file in await asyncio.to_thread(self._pending):
            raw = await asyncio.to_thread(file.read_bytes)
            if self.is_own is not None and self.is_own(raw):
                await asyncio.to_thread(self._done, file)
                continue
            parsed = await asyncio.to_thread(self.parse, raw)
            message = _with(parsed, ChannelCursor(self.cursor_key, file.name), self.clock)
            await self.ingest(message)
            await asyncio.to_thread(self._done, file)
            count += 1
            log.debug("spool file ingested", extra={"file": file.name, "external_id": message.external_id})
        return count

    async def run(self) -> None:
        """Scan the spool every ``poll_interval`` seconds until ``stop()``."""
        self._stopped.clear()
        while not self._stopped.is_set():
            try:
                await self.scan_once()
            except Exception:
                log.exception("spool scan failed", extra={"path": str(self.path)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.poll_interval)

    def is_connected(self) -> bool:
        """Always: a spool folder needs no connection."""
        return True

    @property
    def auth_problem(self) -> str | None:
        """Never: a spool folder needs no sign-in."""
        return None

    async def stop(self) -> None:
        """Ask ``run()`` to return after the current scan."""
        self._stopped.set()


def _with(message: InboundMessage, cursor: ChannelCursor, clock: Clock) -> InboundMessage:
    return replace(message, cursor=cursor, received_at=clock.now())
