"""A fake Slack Web API on 127.0.0.1 (port 0): ``FakeSlack``. The bench uses it too.

``FakeSlack`` records every call, keeps posted messages per channel, and can be told
to fail: ``fail(method, error, times=, status=, retry_after=)`` queues failures
(429 + Retry-After, ``ratelimited``, ``channel_not_found``, ``message_not_found`` …),
``rate_limit(per_second, burst)`` enforces a per-channel limit on ``chat.postMessage``
like Slack's.

It is strict the way Slack is (see ``testkit/slack/rules.py`` for the documented limits): messages
over Block Kit's limits are refused with Slack's error codes, a method the fake does not implement
answers ``unknown_method`` (as slack.com/api does for a misspelt method). Users, channels and DMs
are ``testkit/slack/workspace.py``, views and triggers ``testkit/slack/views.py``, files
``testkit/slack/files.py``, Socket Mode (``apps.connections.open`` and the websocket)
``testkit/slack/socket_mode.py``; requests as Slack signs them are ``testkit/slack/signing.py``.

Every Web API method needs the bot token (``token``; ``apps.connections.open`` the app token):
another one answers ``invalid_auth`` (https://docs.slack.dev/authentication/tokens). ``auth.test``
answers the granted ``scopes`` in the ``x-oauth-scopes`` header, as Slack does for any Web API call
made with an OAuth token (https://docs.slack.dev/reference/methods/auth.test, "Response headers").
A channel it knows with the bot not a member refuses ``chat.postMessage`` with ``not_in_channel``
("Cannot post user messages to a channel they are not in",
https://docs.slack.dev/reference/methods/chat.postMessage, "Errors").
Reaction events are built from the messages it holds by ``testkit.slack.payloads.reaction_event``
(https://api.slack.com/events/reaction_added). Message ``metadata`` is validated and returned by
``conversations.replies`` / ``conversations.history`` only with ``include_all_metadata``, as Slack
documents (``testkit/slack/history.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from testkit.fake_api import FakeApi
from testkit.slack.files import Files
from testkit.slack.history import history, metadata_error, replies
from testkit.slack.rules import MAX_TEXT, blocks_error, length
from testkit.slack.socket_mode import SocketHub
from testkit.slack.views import TRIGGER_SECONDS, Views
from testkit.slack.workspace import Workspace

__all__ = ["BOT_USER", "MANIFEST_SCOPES", "TOKEN", "Call", "Failure", "FakeSlack"]

TOKEN = "xoxb-test"
#: the bot scopes of docs/slack-manifest.yaml, which a fresh install of the app is granted
MANIFEST_SCOPES = (
    "chat:write,chat:write.customize,commands,files:write,files:read,channels:history,groups:history,"
    "channels:read,groups:read,users:read,users:read.email,usergroups:read,reactions:read,im:history,"
    "team:read"
)
BOT_USER = "UBOT"
BOT_ID = "BBOT"


def _message_error(args: dict[str, Any]) -> tuple[str, str] | None:
    """Slack's refusal of a message's ``text`` and ``blocks``, if any."""
    if length(str(args.get("text") or "")) > MAX_TEXT:
        return "msg_too_long", "text over 40000 characters"
    if not args.get("text") and not args.get("blocks"):
        return "no_text", "neither text nor blocks"
    return blocks_error(args.get("blocks"))


@dataclass
class Call:
    """One recorded API call."""

    method: str
    args: dict[str, Any]


@dataclass
class Failure:
    """A queued failure for a method."""

    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class FakeSlack(Workspace, Views, Files, FakeApi[Call]):
    """The fake server's state; ``url`` is the base URL to give ``AsyncWebClient``."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> conversations.info channel
    ims: dict[str, str] = field(default_factory=dict)  # the app's DM channels: id (D…) -> the member
    token: str = TOKEN
    scopes: str = MANIFEST_SCOPES
    responses: list[dict[str, Any]] = field(default_factory=list)  # posted to response_url
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> the Home tab published
    teams: dict[str, dict[str, Any]] = field(  # team.info: the workspace and Slack Connect organisations
        default_factory=lambda: {"T1": {"id": "T1", "name": "Acme", "domain": "acme"}}
    )
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file id -> name, size, channel, thread
    shared: dict[str, bytes] = field(default_factory=dict)  # files users shared: id -> content
    permalinks: bool = True
    paid_workspace: bool = True
    trigger_seconds: float = TRIGGER_SECONDS
    used_triggers: set[str] = field(default_factory=set)
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds before it answers
    limit: tuple[float, int] | None = None
    limit_retry_after: int = 1
    limit_seconds: Callable[[], float] = time.monotonic  # the time the limit's buckets refill with
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    url: str = ""  # the Web API's base (``root`` + ``/api/``)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    socket: SocketHub = field(default_factory=SocketHub)  # Socket Mode (testkit/slack/socket_mode.py)

    # --- control ---------------------------------------------------------------------------------

    def fail(
        self, method: str, error: str, *, times: int = 1, status: int = 200, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``error``."""
        self.script(rf"^{re.escape(method)}$", Failure(error, status, retry_after), times=times)

    def rate_limit(
        self,
        per_second: float,
        burst: int,
        retry_after: int = 1,
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        """Enforce Slack-like per-channel posting limits on chat.postMessage (429 + Retry-After).

        The buckets refill with ``seconds`` (real time; a test whose app runs on a moved clock
        passes that clock, so waiting out a ``Retry-After`` there refills them too).
        """
        self.limit = (per_second, burst)
        self.limit_retry_after = retry_after
        self.limit_seconds = seconds

    def called(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The messages posted in a thread (not the root), in order."""
        return [
            m for m in self.messages.values() if m["channel"] == channel and m.get("thread_ts") == thread_ts
        ]

    def roots(self, channel: str) -> list[dict[str, Any]]:
        """The top-level messages (cards) of a channel, in order."""
        return [m for m in self.messages.values() if m["channel"] == channel and not m.get("thread_ts")]

    def last_update(self, ts: str) -> dict[str, Any] | None:
        """The arguments of the last chat.update of message ``ts``."""
        updates = [c.args for c in self.called("chat.update") if c.args.get("ts") == ts]
        return updates[-1] if updates else None

    def receive(self, event: dict[str, Any]) -> None:
        """A user's message (a ``message`` event's body) as Slack then holds it: replies can thread on it."""
        self.messages[str(event["ts"])] = {k: v for k, v in event.items() if k != "type"}

    def delete(self, ts: str) -> None:
        """Delete a message as a user would."""
        self.messages.pop(ts, None)

    # --- server -----------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        """Bind to 127.0.0.1:0 and serve."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_post("/response/{token}", self._response)
        app.router.add_get("/socket", self.socket.serve)
        await self.serve(app)
        self.url = f"{self.root}/api/"
        return self

    async def stop(self) -> None:
        """Stop serving."""
        await self.socket.close()
        await super().stop()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "GET":
            pass
        elif request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in ("blocks", "files", "view"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    def _limited(self, channel: str) -> bool:
        if self.limit is None:
            return False
        rate, burst = self.limit
        now = self.limit_seconds()
        tokens, last = self.buckets.get(channel, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1.0:
            self.buckets[channel] = (tokens - 1.0, now)
            return False
        self.buckets[channel] = (tokens, now)
        return True

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.record(Call(method, args))
        failure: Failure | None = self.scripted_answer(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        if method == "chat.postMessage" and self._limited(str(args.get("channel"))):
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.limit_retry_after)},
            )
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        if method == "apps.connections.open":
            # an app-level token only (https://docs.slack.dev/reference/methods/apps.connections.open,
            # "Errors": a bot token is not_allowed_token_type)
            if not self._token(request, args).startswith("xapp-"):
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        elif self._token(request, args) != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response(handler(args), headers={"x-oauth-scopes": self.scopes})
        if why := self.view_refusal(method, args):
            self.refuse(method, "invalid_arguments", why)
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            refused = _message_error(args)
            if refused is None and method == "chat.postMessage" and (bad := metadata_error(args)):
                refused = (bad, "metadata is not {event_type: string, event_payload: object}")
            if refused is not None:
                self.refuse(method, *refused)
                return web.json_response({"ok": False, "error": refused[0]})
        return web.json_response(handler(args))

    @staticmethod
    def _token(request: web.Request, args: dict[str, Any]) -> str:
        """The token of a call: the Authorization header (how slack_sdk sends it), or the token argument."""
        header = request.headers.get("Authorization", "")
        return header.removeprefix("Bearer ") if header else str(args.get("token", ""))

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "threadline",
            "team_id": "T1",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel.startswith("CMISSING") or self._unknown_im(channel):
            return {"ok": False, "error": "channel_not_found"}
        if not self.channels.get(channel, {}).get("is_member", True):
            # https://docs.slack.dev/reference/methods/chat.postMessage#errors (without chat:write.public)
            return {"ok": False, "error": "not_in_channel"}
        thread_ts = args.get("thread_ts")
        if thread_ts and thread_ts not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = f"1700000000.{next(self._ts):06d}"
        self.messages[ts] = {**args, "channel": channel, "ts": ts}
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        return replies(self.messages, args)

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        return history(self.messages, args)

    def _someone_elses(self, ts: str) -> bool:
        """A message a user wrote (the fake was told of it): a bot token may not edit or delete it
        (``cant_update_message``, https://docs.slack.dev/reference/methods/chat.update, "Errors";
        ``cant_delete_message``, https://docs.slack.dev/reference/methods/chat.delete, "Errors")."""
        return self.messages[ts].get("user") not in (None, BOT_USER)

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("ts"))
        if ts not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if self._someone_elses(ts):
            return {"ok": False, "error": "cant_update_message"}
        self.messages[ts].update({k: v for k, v in args.items() if k in ("text", "blocks")})
        return {"ok": True, "channel": args.get("channel"), "ts": ts}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("ts"))
        if ts in self.messages and self._someone_elses(ts):
            return {"ok": False, "error": "cant_delete_message"}
        if self.messages.pop(ts, None) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _chat_postEphemeral(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": "1700000000.999999"}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts"))
        if ts not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": args.get("channel"),
            "permalink": self.permalink(str(args.get("channel")), ts),
        }

    @staticmethod
    def permalink(channel: str, ts: str) -> str:
        """The permalink Slack answers for a message (it names the workspace)."""
        return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"], "size": len(data)}))
        return web.Response(text="OK - " + str(len(data)))

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.root.replace("http://", "ws://") + "/socket"}

    @property
    def sockets(self) -> list[web.WebSocketResponse]:
        """Every Socket Mode connection the app opened (closed ones too)."""
        return self.socket.sockets

    @property
    def socket_acks(self) -> list[dict[str, Any]]:
        """Every Socket Mode ack received, in order."""
        return self.socket.acks

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope, as given, over the next open connection."""
        await self.socket.push(envelope)

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        return web.Response(text="ok")
