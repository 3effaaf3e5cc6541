"""A fake Discord REST API on 127.0.0.1, port 0, for discord.py pointed at it via ``Route.BASE``.

It answers the endpoints the Discord surface uses (login, application info, command
sync, channels, threads, forum posts, messages, edits, reactions, interaction
callbacks and follow-ups), keeps channels and messages in memory, records every call
(``calls``), and can be told to fail the next matching call (429 with Retry-After and
X-RateLimit headers, 403, 404 …). Archived threads refuse posts and edits with code
50083 the way Discord refuses edits; deleted ones answer 404 Unknown Channel.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord import discord_fake_payloads as p
from tests.discord.discord_fake_payloads import APP_ID, BOT_ID, GUILD_ID

__all__ = ["APP_ID", "BOT_ID", "GUILD_ID", "Call", "FakeDiscord"]


@dataclass
class Call:
    """One request the fake received: method, path (without the API prefix), JSON body, uploaded files."""

    method: str
    path: str
    json: Any = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


class FakeDiscord:
    """The fake server; ``await start()`` then use ``base_url`` as the API base."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.reactions: list[tuple[int, int, str]] = []
        self.roles: list[dict[str, Any]] = []
        self._ids = itertools.count(1000000000000000000)
        self._failures: list[_Failure] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle and helpers for tests -----------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1:0; return the API base URL."""
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/v10"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def snowflake(self) -> int:
        """A fresh id."""
        return next(self._ids)

    def add_text_channel(self, name: str = "support") -> int:
        """A guild text channel; its id."""
        cid = self.snowflake()
        self.channels[cid] = {
            "id": str(cid),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }
        return cid

    def add_forum_channel(self, name: str = "inbox", tags: tuple[str, ...] = ()) -> int:
        """A guild forum channel with these tag names; its id."""
        cid = self.add_text_channel(name)
        self.channels[cid].update(
            type=15,
            available_tags=[
                {
                    "id": str(self.snowflake()),
                    "name": t,
                    "moderated": False,
                    "emoji_id": None,
                    "emoji_name": None,
                }
                for t in tags
            ],
        )
        return cid

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls whose path matches the regex ``path`` with this error."""
        self._failures.append(_Failure(method, re.compile(path), status, body or {}, headers or {}, times))

    def rate_limit_next(self, method: str, path: str, retry_after: float, times: int = 1) -> None:
        """Answer with 429 the way Discord does (body, Retry-After and X-RateLimit headers, Via)."""
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "fakebucket",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        self.fail_next(method, path, 429, body, headers, times)

    def delete_channel(self, channel_id: int) -> None:
        """A moderator deleted the channel (or thread)."""
        self.channels.pop(channel_id, None)

    def posts(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages in a channel or thread, oldest first."""
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]

    def threads(self) -> list[dict[str, Any]]:
        """Every thread created."""
        return [c for c in self.channels.values() if c["type"] == 11]

    def find(self, method: str, pattern: str) -> list[Call]:
        """Recorded calls of ``method`` whose path matches ``pattern``."""
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    async def wait_for(self, method: str, pattern: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` matching calls were received; return them."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.find(method, pattern)) >= count), timeout
            )
        return self.find(method, pattern)

    def thread_payload(self, thread_id: int) -> dict[str, Any]:
        """A thread's channel payload (as interactions carry it)."""
        return self.channels[thread_id]

    # --- the API ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._body(request)
        self.calls.append(Call(request.method, path, body, files, dict(request.query)))
        async with self._changed:
            self._changed.notify_all()
        for failure in self._failures:
            if failure.method == request.method and failure.pattern.search(path) and failure.times > 0:
                failure.times -= 1
                return p.json_response(failure.body, status=failure.status, headers=failure.headers)
        try:
            return await self._route(request.method, path, body, files)
        except p.FakeError as err:
            return p.json_response({"code": err.code, "message": err.message}, status=err.status)

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [(f.filename, f.file.read()) for k, f in form.items() if isinstance(f, web.FileField)]
            raw = form.get("payload_json")
            return (json.loads(raw) if isinstance(raw, str) else None), files
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), []
        return None, []

    async def _route(self, method: str, path: str, body: Any, files: list[tuple[str, bytes]]) -> web.Response:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return p.json_response(p.user(BOT_ID, "threadline", bot=True))
        if path == "/oauth2/applications/@me":
            return p.json_response(p.application())
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            return p.json_response([p.command_echo(c, self.snowflake()) for c in body or []])
        if parts[0] == "guilds" and parts[-1] == "roles":
            return p.json_response(self.roles)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return p.json_response(p.callback(int(parts[1]), body, self.snowflake()))
        if parts[0] == "webhooks" and method == "POST":
            return p.json_response(self._new_message(0, body or {}, files, webhook=True))
        if parts[0] == "webhooks" and method == "PATCH":
            return p.json_response(self._new_message(0, body or {}, files, webhook=True))
        if parts[0] == "channels":
            return self._channel_route(method, parts[1:], body, files)
        raise p.FakeError(404, 0, f"fake Discord has no {method} {path}")

    def _channel_route(
        self, method: str, parts: list[str], body: Any, files: list[tuple[str, bytes]]
    ) -> web.Response:
        cid = int(parts[0])
        channel = self.channels.get(cid)
        if channel is None:
            raise p.FakeError(404, 10003, "Unknown Channel")
        rest = parts[1:]
        if not rest and method == "GET":
            return p.json_response(channel)
        if not rest and method == "PATCH":
            meta = channel.get("thread_metadata")
            if meta is not None and "archived" in body:
                meta["archived"] = bool(body["archived"])
            if "applied_tags" in body:
                channel["applied_tags"] = list(body["applied_tags"])
            return p.json_response(channel)
        if rest == ["threads"] and method == "POST":
            return p.json_response(self._new_thread(channel, body or {}, files))
        if rest == ["messages"] and method == "POST":
            self._writable(channel)
            return p.json_response(self._new_message(cid, body or {}, files))
        if len(rest) == 2 and rest[0] == "messages" and method == "PATCH":
            self._writable(channel)
            message = self.messages.get(int(rest[1]))
            if message is None:
                raise p.FakeError(404, 10008, "Unknown Message")
            message.update(
                {k: v for k, v in (body or {}).items() if k in ("content", "embeds", "components")}
            )
            message["edited_timestamp"] = p.NOW
            message.setdefault("edits", 0)
            message["edits"] += 1
            return p.json_response(message)
        if len(rest) == 2 and rest[0] == "messages" and method == "DELETE":
            if self.messages.pop(int(rest[1]), None) is None:
                raise p.FakeError(404, 10008, "Unknown Message")
            return web.Response(status=204)
        if len(rest) >= 4 and rest[2] == "reactions" and method == "PUT":
            self.reactions.append((cid, int(rest[1]), rest[3]))
            return web.Response(status=204)
        raise p.FakeError(404, 0, f"fake Discord has no {method} /channels/{'/'.join(parts)}")

    @staticmethod
    def _writable(channel: dict[str, Any]) -> None:
        if channel.get("thread_metadata", {}).get("archived"):
            raise p.FakeError(400, 50083, "Thread is archived")

    def _new_thread(
        self, parent: dict[str, Any], body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> Any:
        tid = self.snowflake()
        made = p.thread(tid, parent, body)
        self.channels[tid] = made
        if parent["type"] == 15:
            return {**made, "message": self._new_message(tid, body.get("message", {}), files, message_id=tid)}
        return made

    def _new_message(
        self,
        cid: int,
        body: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        webhook: bool = False,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        mid = message_id or self.snowflake()
        made = p.message(mid, cid, body, [(n, d, self.snowflake()) for n, d in files], webhook=webhook)
        if not webhook:
            self.messages[mid] = made
        return made
