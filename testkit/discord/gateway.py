"""The fake Discord's gateway: as far as connecting goes, for discord.py's own websocket client.

As the Gateway page of Discord's developer documentation describes it
(https://discord.com/developers/docs/events/gateway): the server sends Hello (op 10) with the
heartbeat interval, the client sends Identify (op 2) with its token and intents, the server answers
Ready (a dispatch, op 0) and acknowledges each Heartbeat (op 1) with op 11. "Opcodes and Status
Codes", gateway close event codes: 4004 when the token is wrong, 4014 "Disallowed intent(s)" when a
privileged intent (Gateway Intents: GUILD_MEMBERS 1 << 1, GUILD_PRESENCES 1 << 8, MESSAGE_CONTENT
1 << 15) is asked for but not enabled in the developer portal; neither may be reconnected.

Frames are sent as text (uncompressed): discord.py decompresses binary frames only. ``dispatch``
sends an event to the connected clients as a Dispatch (op 0) with ``t`` its name and ``s`` the next
sequence number ("Gateway Events", "Payload Structure": ``s`` and ``t`` are set for op 0 only).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from testkit.discord import payloads as p
from testkit.discord.payloads import APP_ID, BOT_ID

if TYPE_CHECKING:
    from testkit.discord.fake import FakeDiscord

__all__ = ["PRIVILEGED_INTENTS", "FakeGateway"]

PRIVILEGED_INTENTS = {"guild_members": 1 << 1, "guild_presences": 1 << 8, "message_content": 1 << 15}


class FakeGateway:
    """The websocket endpoint; ``enabled`` holds the privileged intents switched on for the bot."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.enabled: set[str] = {"message_content"}
        self.identifies: list[dict[str, Any]] = []
        self.closed_with: list[int] = []
        self.ready: list[web.WebSocketResponse] = []  # connections that were sent READY
        self._seq = 1

    @staticmethod
    def info(url: str) -> dict[str, Any]:
        """GET /gateway/bot."""
        return {
            "url": url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        }

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """One gateway connection: Hello, then Identify → Ready or a close code."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif data["op"] == 2:
                code = self._identify(data["d"])
                if code is not None:
                    self.closed_with.append(code)
                    await ws.close(code=code, message=b"Disallowed intent(s)." if code == 4014 else b"")
                    break
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": self._ready(request)}))
                self.ready.append(ws)
        if ws in self.ready:
            self.ready.remove(ws)
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send the event ``event`` to every connected client; how many got it."""
        self._seq += 1
        frame = json.dumps({"op": 0, "s": self._seq, "t": event, "d": data})
        live = [ws for ws in self.ready if not ws.closed]
        for ws in live:
            await ws.send_str(frame)
        return len(live)

    def _identify(self, identify: dict[str, Any]) -> int | None:
        self.identifies.append(identify)
        if identify.get("token") != self.fake.token:
            return 4004
        intents = int(identify.get("intents", 0))
        if any(intents & bit and name not in self.enabled for name, bit in PRIVILEGED_INTENTS.items()):
            return 4014
        return None

    @staticmethod
    def _ready(request: web.Request) -> dict[str, Any]:
        return {
            "v": 10,
            "user": p.user(BOT_ID, "threadline", bot=True),
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": f"ws://{request.host}/gateway",
            "application": {"id": str(APP_ID), "flags": 0},
            "shard": [0, 1],
        }
