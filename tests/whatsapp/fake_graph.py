"""A fake WhatsApp Cloud (Graph) API on 127.0.0.1, port 0: records sends, serves media, answers errors."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "test-token"
PHONE_NUMBER_ID = "1055"
VERSION = "v21.0"

#: Meta's documented error bodies, by code: (HTTP status, error object)
ERRORS: dict[int, tuple[int, dict[str, Any]]] = {
    2: (503, {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2}),
    131047: (
        400,
        {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more "
                "than 24 hours have passed since the customer last replied to this number.",
            },
        },
    ),
    131056: (
        400,
        {
            "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "type": "OAuthException",
            "code": 131056,
        },
    ),
    130429: (
        400,
        {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Cloud API message throughput has been reached.",
            },
        },
    ),
    190: (
        401,
        {
            "message": "Error validating access token: Session has expired",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
        },
    ),
}


@dataclass
class FakeGraph:
    """The fake server's state; tests read ``sent``, ``uploads``, ``read_marks`` and set ``fail_next``."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    read_marks: list[str] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # media ids whose bytes were fetched
    fail_next: list[int] = field(default_factory=list)
    fail_on_post: dict[int, int] = field(default_factory=dict)  # nth message POST (1-based) -> error code
    message_posts: int = 0
    unauthorised: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _authorised(self, request: web.Request) -> bool:
        ok = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        self.unauthorised += not ok
        return ok

    def _error(self, code: int) -> web.Response:
        status, error = ERRORS[code]
        return web.json_response({"error": {**error, "fbtrace_id": "AbCdEf"}}, status=status)

    async def messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        body = await request.json()
        self.message_posts += 1
        if self.message_posts in self.fail_on_post:
            return self._error(self.fail_on_post.pop(self.message_posts))
        if self.fail_next:
            return self._error(self.fail_next.pop(0))
        if body.get("status") == "read":
            self.read_marks.append(body["message_id"])
            return web.json_response({"success": True})
        self.sent.append(body)
        wamid = f"wamid.OUT{next(self._ids)}"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": wamid}],
            }
        )

    async def upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        form = await request.post()
        file = form["file"]
        assert isinstance(file, web.FileField)
        media_id = f"up{next(self._ids)}"
        self.uploads.append(
            {
                "id": media_id,
                "type": form["type"],
                "filename": file.filename,
                "data": file.file.read(),
                "messaging_product": form["messaging_product"],
            }
        )
        return web.json_response({"id": media_id})

    async def media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return web.json_response(
                {"error": {"message": "Unsupported get request", "code": 100}}, status=400
            )
        data, mime = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/download/{media_id}",
                "mime_type": mime,
                "sha256": "x",
                "file_size": len(data),
                "id": media_id,
            }
        )

    async def download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        data, mime = self.media[request.match_info["media_id"]]
        self.downloads.append(request.match_info["media_id"])
        return web.Response(body=data, content_type=mime)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/messages", self.messages)
        app.router.add_post(f"/{VERSION}/{PHONE_NUMBER_ID}/media", self.upload)
        app.router.add_get("/download/{media_id}", self.download)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self.media_info)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def dumps(payload: Any) -> bytes:
    """A webhook body as Meta sends it (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
