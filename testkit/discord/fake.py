"""A strict fake Discord REST API (and gateway) on 127.0.0.1, port 0, for discord.py pointed at it.

It answers the endpoints the Discord surface uses (login, application info, command sync, the
gateway, channels, threads, forum posts, messages, edits, reactions, interaction callbacks and
follow-ups), keeps channels, messages and synced commands in memory, records every call
(``calls``), and can be told to fail the next matching call (429 with Retry-After and X-RateLimit
headers, 403, 404 …).

It refuses what Discord refuses (``testkit.discord.limits`` has the message limits and their sources):
- a request without the bot token answers 401 (Opcodes and Status Codes, HTTP: "the Authorization
  header was missing or invalid"); ``token`` is the one it accepts;
- a route it does not know answers 501 and is recorded in ``unknown``: the tests' fixture fails on it,
  so nothing is ever answered "ok" by accident;
- threads (archived, locked, the guild's cap on active threads) and forum posts (tags):
  ``testkit.discord.threads``; a forum takes no plain messages (40058);
- interaction answers (once, 40060; follow-ups; ``@original`` edits): ``testkit.discord.interactions``;
- ``GET /applications/@me`` (Application resource, "Get Current Application") carries the application
  flags of the privileged intents switched on in the gateway (``GATEWAY_MESSAGE_CONTENT`` 1 << 19,
  ``GATEWAY_GUILD_MEMBERS`` 1 << 15, ``GATEWAY_PRESENCE`` 1 << 13; Application resource, "Application
  Flags"); ``GET /guilds/{id}`` and ``GET /guilds/{id}/members/{user}`` (Guild resource) answer the
  guild's roles (``@everyone`` has the guild's id; the bot's managed role has the permissions of the
  invite URL in docs/discord.md unless ``bot_permissions`` says otherwise) and the bot's member
  object; any other member answers 10007 Unknown Member;
- messages (history paging, pins, ``nonce``): ``testkit.discord.messages``;
- a channel in ``no_access`` (the bot's role lost View Channel there), and every thread in it, answers
  403 50001 Missing Access to every call (Opcodes and Status Codes, "JSON Error Codes":
  https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from testkit.discord import payloads as p
from testkit.discord.dms import FakeDms
from testkit.discord.gateway import FakeGateway
from testkit.discord.interactions import Interactions, Response
from testkit.discord.limits import check_message
from testkit.discord.messages import NONCE_SECONDS, Messages
from testkit.discord.payloads import APP_ID, BOT_ID, GUILD_ID
from testkit.discord.threads import ACTIVE_THREADS, REQUIRE_TAG, Threads
from testkit.fake_api import FakeApi

_DISCORD_EPOCH_MS = 1_420_070_400_000  # the first second of 2015, the epoch of snowflake timestamps

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_ROLE_ID",
    "GUILD_ID",
    "INVITE_PERMISSIONS",
    "NONCE_SECONDS",
    "REQUIRE_TAG",
    "Call",
    "FakeDiscord",
    "Response",
]

INVITE_PERMISSIONS = 326417632320
"""The permissions the invite URL of docs/discord.md grants the bot's role."""
BOT_ROLE_ID = 900000000000000003
_INTENT_FLAGS = {"message_content": 1 << 19, "guild_members": 1 << 15, "guild_presences": 1 << 13}
_MAX_BODY = 64 * 1024 * 1024  # read oversized bodies so that the 25 MiB check answers, not aiohttp


@dataclass
class Call:
    """One request the fake received: method, path (without the API prefix), JSON body, uploaded files."""

    method: str
    path: str
    json: Any = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    """The HTTP status the fake answered with."""


class FakeDiscord(Threads, Interactions, Messages, FakeApi[Call]):
    """The fake server; ``await start()`` then use ``base_url`` as the API base."""

    def __init__(self) -> None:
        super().__init__()
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.reactions: list[tuple[int, int, str]] = []
        self.pins: dict[int, list[int]] = {}  # channel id -> pinned message ids, in pinning order
        self.roles: list[dict[str, Any]] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        """Synced application commands per guild id (None: global)."""
        self.responses: dict[str, Response] = {}
        """Interaction answers by interaction token."""
        self.interaction_channels: dict[str, int] = {}
        """The channel each interaction (by token) was used in; the harness registers them."""
        self.unknown: list[str] = []
        self.token = "fake-token"
        self.bot_permissions = INVITE_PERMISSIONS
        """The permissions of the bot's managed role (from the invite URL)."""
        self.everyone_permissions = 0
        """The permissions of the guild's ``@everyone`` role."""
        self.active_thread_limit = ACTIVE_THREADS
        self.no_access: set[int] = set()
        """Channels the bot cannot see: they and their threads answer 403 50001 Missing Access."""
        self.gateway = FakeGateway(self)
        self.dms = FakeDms(self.channels, self.snowflake)
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}  # (channel, nonce) -> (message, when)
        self.nonce_clock: Callable[[], float] = time.monotonic
        self._last_id = 0
        self.id_clock: Callable[[], float] = time.time
        """The time new ids carry (seconds since 1970); a test may move it on (ids only ever grow)."""
        self._changed = asyncio.Condition()
        self.base_url = ""
        self.gateway_url = ""

    # --- lifecycle and helpers for tests -----------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1:0; return the API base URL."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        app.router.add_get("/attachments/{aid}/{name}", self.dms.download)  # the CDN of users' files
        port = await self.serve(app)
        self.base_url = f"{self.root}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        self.dms.cdn = f"{self.root}/attachments"
        return self.base_url

    def snowflake(self) -> int:
        """A fresh id: a snowflake of now, as Discord's ids are (the top 42 bits are the creation time
        in milliseconds since the Discord epoch, 2015-01-01; https://discord.com/developers/docs/reference#snowflakes),
        increasing within the millisecond."""
        now = (int(self.id_clock() * 1000) - _DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, now)
        return self._last_id

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
            "flags": 0,
        }
        return cid

    def add_forum_channel(
        self, name: str = "inbox", tags: tuple[str, ...] = (), *, require_tag: bool = False
    ) -> int:
        """A guild forum channel with these tag names (and "require tags" set if asked); its id."""
        cid = self.add_text_channel(name)
        self.channels[cid].update(
            type=15,
            flags=REQUIRE_TAG if require_tag else 0,
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

    def tag_id(self, forum: int, name: str) -> str:
        """The id of the forum's tag called ``name``."""
        return next(t["id"] for t in self.channels[forum]["available_tags"] if t["name"] == name)

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
        route = f"^{method} " + (path[1:] if path.startswith("^") else f".*{path}")
        self.script(route, (status, body or {}, headers or {}), times=times)

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

    def receive(self, data: dict[str, Any]) -> None:
        """A member's message (a gateway MESSAGE_CREATE payload) arrives: stored, and an archived
        thread is unarchived by it unless locked (then Discord refuses it: ``FakeError`` 160005)."""
        self._unarchive_for_message(self.channels[int(data["channel_id"])])
        self.messages[int(data["id"])] = data

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
        """Wait until at least ``count`` matching calls were received and answered; return them."""

        def answered() -> list[Call]:
            return [c for c in self.find(method, pattern) if c.status]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(answered()) >= count), timeout)
        return answered()

    def thread_payload(self, thread_id: int) -> dict[str, Any]:
        """A thread's channel payload (as interactions carry it)."""
        return self.channels[thread_id]

    # --- the API ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files, size = await self._body(request)
        call = self.record(Call(request.method, path, body, files, dict(request.query)))
        response = await self._answer(request, call, size)
        call.status = response.status
        async with self._changed:
            self._changed.notify_all()
        return response

    async def _answer(self, request: web.Request, call: Call, size: int) -> web.Response:
        scripted = self.scripted_answer(f"{call.method} {call.path}")
        if scripted is not None:
            status, body, headers = scripted
            return p.json_response(body, status=status, headers=headers)
        try:
            if not call.path.startswith(("/interactions/", "/webhooks/")):
                self._authorised(request)
            return await self._route(call.method, call.path, call.json, call.files, size, call.query)
        except p.FakeError as err:
            self.refuse(f"{call.method} {call.path}", str(err.code), err.message)
            return p.json_response({"code": err.code, "message": err.message}, status=err.status)

    def _authorised(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise p.FakeError(401, 0, "401: Unauthorized")

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]], int]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [(f.filename, f.file.read()) for k, f in form.items() if isinstance(f, web.FileField)]
            raw = form.get("payload_json")
            payload_size = len(raw) if isinstance(raw, str | bytes | bytearray) else 0
            size = payload_size + sum(len(data) for _, data in files)
            return (json.loads(raw) if isinstance(raw, str) else None), files, size
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), [], len(text)
        return None, [], 0

    async def _route(
        self,
        method: str,
        path: str,
        body: Any,
        files: list[tuple[str, bytes]],
        size: int,
        query: dict[str, str],
    ) -> web.Response:
        parts = path.strip("/").split("/")
        if path == "/users/@me" and method == "GET":
            return p.json_response(p.user(BOT_ID, "threadline", bot=True))
        if path == "/oauth2/applications/@me" and method == "GET":
            return p.json_response(p.application())
        if path == "/applications/@me" and method == "GET":
            flags = sum(bit for name, bit in _INTENT_FLAGS.items() if name in self.gateway.enabled)
            return p.json_response({**p.application(), "flags": flags})
        if path == f"/guilds/{GUILD_ID}/threads/active" and method == "GET":
            return p.json_response(self._active_thread_list())
        if parts[0] == "guilds" and len(parts) == 2 and method == "GET" and parts[1] == str(GUILD_ID):
            return p.json_response(self._guild())
        if parts[0] == "guilds" and len(parts) == 4 and parts[2] == "members" and method == "GET":
            if parts[3] != str(BOT_ID):
                raise p.FakeError(404, 10007, "Unknown Member")
            return p.json_response(
                {"user": p.user(BOT_ID, "threadline", bot=True), "roles": [str(BOT_ROLE_ID)]}
            )
        if path == "/users/@me/channels" and method == "POST":
            return p.json_response(self.dms.open(body))
        if path == "/gateway/bot" and method == "GET":
            return p.json_response(self.gateway.info(self.gateway_url))
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            guild = int(parts[3]) if len(parts) == 5 and parts[2] == "guilds" else None
            echoed = [p.command_echo(c, self.snowflake()) for c in body or []]
            self.commands[guild] = echoed
            return p.json_response(echoed)
        if parts[0] == "guilds" and parts[-1] == "roles" and method == "GET":
            return p.json_response(self.roles)
        if parts[0] == "interactions" and parts[-1] == "callback" and method == "POST":
            return p.json_response(self._callback(int(parts[1]), parts[2], body or {}, files, size))
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self._webhook_route(method, parts[2], parts[3:], body or {}, files, size)
        if parts[0] == "channels":
            if parts[2:] == ["messages"] and method == "GET":
                return p.json_response(self._history(int(parts[1]), query))
            return self._channel_route(method, parts[1:], body, files, size)
        return self._unknown(method, path)

    def _guild(self) -> dict[str, Any]:
        """The guild object: its owner (not the bot) and roles."""

        def role(rid: int, name: str, permissions: int, managed: bool) -> dict[str, Any]:
            return {"id": str(rid), "name": name, "permissions": str(permissions), "managed": managed}

        roles = [
            role(GUILD_ID, "@everyone", self.everyone_permissions, False),
            role(BOT_ROLE_ID, "Threadline", self.bot_permissions, True),
            *self.roles,
        ]
        return {"id": str(GUILD_ID), "name": "Acme", "owner_id": "1", "roles": roles}

    def _unknown(self, method: str, path: str) -> web.Response:
        self.unknown.append(f"{method} {path}")
        return p.json_response({"code": 0, "message": f"fake Discord has no {method} {path}"}, status=501)

    # --- channels, threads, messages -----------------------------------------------------------------

    def _channel_route(
        self, method: str, parts: list[str], body: Any, files: list[tuple[str, bytes]], size: int
    ) -> web.Response:
        cid = int(parts[0])
        channel = self.channels.get(cid)
        if channel is None:
            raise p.FakeError(404, 10003, "Unknown Channel")
        if cid in self.no_access or int(channel.get("parent_id") or 0) in self.no_access:
            raise p.FakeError(403, 50001, "Missing Access")
        rest = parts[1:]
        if not rest and method == "GET":
            return p.json_response(channel)
        if not rest and method == "PATCH":
            return p.json_response(self._edit_channel(channel, body or {}))
        if not rest and method == "DELETE" and "thread_metadata" in channel:
            del self.channels[cid]
            for mid in [m for m, message in self.messages.items() if int(message["channel_id"]) == cid]:
                del self.messages[mid]
            return p.json_response(channel)
        if rest == ["threads"] and method == "POST":
            return p.json_response(self._new_thread(channel, body or {}, files, size))
        if rest == ["messages"] and method == "POST":
            return p.json_response(self._post(channel, body or {}, files, size))
        if len(rest) == 2 and rest[0] == "messages" and method == "PATCH":
            self._active(channel)
            message = self._own(self._message(cid, rest[1]))
            check_message(body, files, size=size)
            message.update(
                {k: v for k, v in (body or {}).items() if k in ("content", "embeds", "components")}
            )
            message["edited_timestamp"] = p.NOW
            message.setdefault("edits", 0)
            message["edits"] += 1
            return p.json_response(message)
        if len(rest) == 2 and rest[0] == "messages" and method == "DELETE":
            self._message(cid, rest[1])  # deleting is the one thing allowed in an archived thread
            del self.messages[int(rest[1])]
            return web.Response(status=204)
        if rest[:2] == ["messages", "pins"]:
            return self._pins(channel, method, rest[2:])
        if len(rest) >= 4 and rest[2] == "reactions" and method == "PUT":
            self._active(channel)
            self._message(cid, rest[1])
            self.reactions.append((cid, int(rest[1]), rest[3]))
            return web.Response(status=204)
        return self._unknown(method, f"/channels/{'/'.join(parts)}")
