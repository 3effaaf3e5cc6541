"""The fake Slack's Socket Mode server: websocket connections, envelopes spread over them, acks, redelivery.

As Slack documents it (https://docs.slack.dev/apis/events-api/using-socket-mode/): the app calls
``apps.connections.open`` with its app-level token and connects to the URL it gets; Slack sends
``{"type": "hello", "num_connections": N, ...}``; an app may hold up to 10 connections at once and
Slack sends each envelope over one of them, so the instances of an app share the load; the app
acknowledges an envelope by sending back ``{"envelope_id": ...}`` (optionally with a ``payload``)
within 3 seconds. An Events API envelope that is not acknowledged in time is delivered again, as a
new envelope with the same ``payload`` and ``retry_attempt`` 1, 2, 3 and a ``retry_reason``
(the Events API retries three times: https://docs.slack.dev/apis/events-api/#retries). Slash
commands and interactions are not retried: the user sees the command fail and types it again.

The fake picks connections round-robin; ``retry_seconds`` stands in for Slack's schedule (at once,
then 1 and 5 minutes) so a test waits seconds, not minutes. A connection that is cut (its
instance killed) gets nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["MAX_CONNECTIONS", "SocketHub"]

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 10  # "up to 10 simultaneous WebSocket connections" per app
ACK_SECONDS = 3.0  # an envelope not acknowledged within this is retried (Events API only)
RETRIES = 3  # the Events API's retries after the first attempt


@dataclass
class SocketHub:
    """Open connections, the envelopes sent over each, and the acks received."""

    ack_seconds: float = ACK_SECONDS
    retry_seconds: float = 0.5
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (connection number, envelope)
    refused: int = 0  # connections refused over MAX_CONNECTIONS
    _numbers: dict[int, int] = field(default_factory=dict)  # id(socket) -> connection number
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _acked: dict[str, asyncio.Event] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def open(self) -> list[web.WebSocketResponse]:
        """The connections still open."""
        return [ws for ws in self.sockets if not ws.closed]

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """One connection: ``hello``, then every text frame is an ack recorded by ``envelope_id``."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if len(self.open()) >= MAX_CONNECTIONS:
            self.refused += 1
            await ws.send_json({"type": "disconnect", "reason": "too_many_websockets"})
            await ws.close()
            return ws
        self._numbers[id(ws)] = len(self.sockets)
        self.sockets.append(ws)
        hello = {"type": "hello", "num_connections": len(self.open()), "debug_info": {"host": "fake"}}
        await ws.send_json(hello)
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.acks.append(ack)
                if (event := self._acked.get(str(ack.get("envelope_id")))) is not None:
                    event.set()
        return ws

    def connection_of(self, envelope_id: str) -> int | None:
        """The number of the connection ``envelope_id`` was sent over."""
        return next((n for n, e in self.sent if e.get("envelope_id") == envelope_id), None)

    def acked(self, envelope_id: str) -> bool:
        """True once the app acknowledged ``envelope_id``."""
        return any(a.get("envelope_id") == envelope_id for a in self.acks)

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send ``envelope`` as given over the next open connection (round-robin)."""
        await self._send(envelope)

    def deliver(self, kind: str, payload: dict[str, Any], **extra: Any) -> str:
        """Deliver ``payload`` as Slack does: a fresh envelope over the next connection; an Events API
        envelope not acknowledged within ``ack_seconds`` is sent again (``retry_attempt``, up to 3
        retries). Returns the first envelope's id; delivery goes on in the background."""
        first = f"env-{next(self._ids)}"
        task = asyncio.get_running_loop().create_task(self._deliver(first, kind, payload, extra))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return first

    async def _deliver(self, first: str, kind: str, payload: dict[str, Any], extra: dict[str, Any]) -> None:
        envelope_id = first
        for attempt in range(RETRIES + 1):
            envelope = {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                **extra,
            }
            if kind == "events_api":
                envelope.update(retry_attempt=attempt, retry_reason="timeout" if attempt else "")
            acked = self._acked[envelope_id] = asyncio.Event()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._send(envelope)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(acked.wait(), self.ack_seconds)
            if acked.is_set() or kind != "events_api":
                return
            await asyncio.sleep(self.retry_seconds)
            envelope_id = f"env-{next(self._ids)}"
        log.warning("envelope never acknowledged", extra={"envelope_id": first})

    async def _send(self, envelope: dict[str, Any]) -> None:
        open_sockets = self.open()
        if not open_sockets:
            raise ConnectionError("no Socket Mode connection is open")
        ws = open_sockets[next(self._turn) % len(open_sockets)]
        self.sent.append((self._numbers[id(ws)], envelope))
        await ws.send_json(envelope)

    async def close(self) -> None:
        """Stop redelivering and close every connection."""
        for task in list(self._tasks):
            task.cancel()
        for ws in self.open():
            await ws.close()
