"""An in-memory stand-in for the core's ingest port, for the email channel's own tests."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from bot.ports.inbound import InboundMessage, IngestResult


@dataclass
class Recorder:
    """An in-memory stand-in for the core: records messages and stores cursors as ingest would."""

    messages: list[InboundMessage] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    fail_after: int | None = None

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Record ``message`` and its cursor together (one "transaction")."""
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise RuntimeError("simulated crash in ingest")
        self.messages.append(message)
        if message.cursor is not None:
            self.cursors[message.cursor.key] = message.cursor.value
        self.arrived.set()
        return IngestResult(duplicate=False, conversation_number=len(self.messages))

    async def load_cursor(self, key: str) -> str | None:
        """The stored cursor for ``key``."""
        return self.cursors.get(key)

    async def save_cursor(self, key: str, value: str) -> None:
        """Store a cursor without a message (skipped own mail, first start)."""
        self.cursors[key] = value

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least ``count`` messages arrived, or fail after ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"only {len(self.messages)} of {count} messages arrived in {timeout}s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.2))

    def ids(self) -> list[str]:
        """External ids in ingest order."""
        return [m.external_id for m in self.messages]
