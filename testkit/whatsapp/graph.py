"""A fake WhatsApp Cloud (Graph) API on 127.0.0.1, port 0: records sends, serves media, answers errors.

It refuses what Meta documents it refuses, and is stricter where the documents are vague:

- media types and sizes, template parameters, and Meta's error bodies: ``testkit.whatsapp.rules``.
- a recipient is either ``to`` (the phone number, digits only here) or ``recipient`` (a
  business-scoped user id such as ``US.13491208655302741918``); ``to`` wins when both are
  given ("Business-scoped user IDs",
  https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/).
  Anything else: error 100.
- ``GET /{phone-number-id}`` answers the number's fields (``display_phone_number``, ``verified_name``,
  ``quality_rating``, ``id``; "Phone Numbers",
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers); any other id
  answers error 100 ("Unsupported get request", as the Graph API does for an object it cannot load).
- ``GET /{waba-id}/subscribed_apps`` lists the subscribed apps (``data`` of
  ``whatsapp_business_api_data``; "Set up webhooks",
  https://developers.facebook.com/docs/whatsapp/cloud-api/guides/set-up-webhooks): one when
  ``subscribed``, none otherwise; another WABA id answers error 100.
- a message needs ``messaging_product`` ``"whatsapp"`` and a text ``body`` of 1 to 4,096 characters
  ("Messages", https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages); else error 100.
- with ``now`` set, a free-form message to someone who has not written in the last 24 hours (by
  the ``timestamp`` of their messages in the webhooks the fake has seen) is refused: 131047.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from testkit.fake_api import FakeApi
from testkit.whatsapp.rules import ANIMATED_STICKER_BYTES, ERRORS, MEDIA_LIMITS, template_error

TOKEN = "test-token"
PHONE_NUMBER_ID = "1055"
SECOND_NUMBER_ID = "2077"
VERSION = "v26.0"
WABA_ID = "3300"
_PHONE = re.compile(r"^[1-9]\d{6,14}$")
_BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")
_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Call:
    """One request to the Graph API: its route (``messages``, ``media``, ``media_info``, ``subscribed_apps``,
    ``download``) and the phone number id or media id in its path."""

    route: str
    target: str


@dataclass
class FakeGraph(FakeApi[Call]):
    """The fake server's state; tests read ``sent``, ``uploads``, ``read_marks`` and script errors with
    ``fail`` (refusals are in ``refusals``, with Meta's error code as ``error``).

    ``sent_from`` is the phone number id each of ``sent`` went out from; ``now`` (when set)
    turns on the 24-hour window, fed by ``saw_webhook``.
    """

    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_from: list[str] = field(default_factory=list)
    now: Callable[[], datetime] | None = None
    last_wrote: dict[tuple[str, str], datetime] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    read_marks: list[str] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # media ids whose bytes were fetched
    unauthorised: int = 0
    subscribed: bool = True
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _authorised(self, request: web.Request) -> bool:
        ok = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        self.unauthorised += not ok
        return ok

    @property
    def url(self) -> str:
        """The Graph API's base URL (``graph_base_url`` in the settings)."""
        return self.root

    def fail(self, code: int, *, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` message sends with Meta's error ``code`` (after letting ``after`` through)."""
        self.script("^messages$", code, times=times, after=after)

    def _refuse(self, route: str, code: int) -> web.Response:
        """Record a documented refusal and answer it as Meta does."""
        self.refuse(route, str(code), ERRORS[code][1].get("message", ""))
        return self._error(code)

    def _error(self, code: int) -> web.Response:
        status, error = ERRORS[code]
        return web.json_response({"error": {**error, "fbtrace_id": "AbCdEf"}}, status=status)

    def saw_webhook(self, payload: Any) -> None:
        """Note when each customer wrote to which number (Meta's ``timestamp``), for the 24-hour window."""
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                number = value.get("metadata", {}).get("phone_number_id", "")
                for msg in value.get("messages", []):
                    wrote = datetime.fromtimestamp(int(msg["timestamp"]), tz=UTC)
                    for who in (msg.get("from"), msg.get("from_user_id")):
                        if who:
                            key = (number, who)
                            self.last_wrote[key] = max(wrote, self.last_wrote.get(key, wrote))

    def _refusal(self, number: str, body: dict[str, Any]) -> int | None:
        """The error code Meta answers for this message body, or None when it is sent."""
        if body.get("messaging_product") != "whatsapp":  # required, "whatsapp" (Messages reference)
            return 100
        to, recipient = body.get("to"), body.get("recipient")
        if to is not None:
            if not _PHONE.match(str(to)):
                return 100
        elif recipient is None or not _BSUID.match(str(recipient)):
            return 100
        kind = body.get("type")
        if kind == "template":
            return template_error(body.get("template", {}))
        if kind == "text" and not 0 < len(body.get("text", {}).get("body", "")) <= 4096:
            return 100
        if kind in MEDIA_LIMITS:
            upload = next((u for u in self.uploads if u["id"] == body.get(kind, {}).get("id")), None)
            if upload is None:
                return 100
            mimes, limit = MEDIA_LIMITS[kind]
            if kind == "sticker" and b"ANIM" in upload["data"][:64]:
                limit = ANIMATED_STICKER_BYTES
            if upload["type"] not in mimes or len(upload["data"]) > limit:
                return 131053
        if self.now is not None:
            wrote = self.last_wrote.get((number, str(to if to is not None else recipient)))
            if wrote is None or self.now() - wrote > _WINDOW:
                return 131047
        return None

    async def messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        number = request.match_info["number"]
        if number not in (PHONE_NUMBER_ID, SECOND_NUMBER_ID):
            return self._error(100)
        body = await request.json()
        self.record(Call("messages", number))
        scripted: int | None = self.scripted_answer("messages")
        if scripted is not None:
            return self._error(scripted)
        if body.get("status") == "read":
            self.read_marks.append(body["message_id"])
            return web.json_response({"success": True})
        refusal = self._refusal(number, body)
        if refusal is not None:
            return self._refuse("messages", refusal)
        self.sent.append(body)
        self.sent_from.append(number)
        wamid = f"wamid.OUT{next(self._ids)}"
        if body.get("to") is not None:
            contact = {"input": body["to"], "wa_id": body["to"]}
        else:
            contact = {"input": body["recipient"], "user_id": body["recipient"]}
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )

    async def upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        self.record(Call("media", request.match_info["number"]))
        form = await request.post()
        file = form["file"]
        assert isinstance(file, web.FileField)
        data = file.file.read()
        mime = str(form["type"])
        accepted = [limit for mimes, limit in MEDIA_LIMITS.values() if mime in mimes]
        if mime == "image/webp":
            accepted = [ANIMATED_STICKER_BYTES]
        if not accepted or len(data) > max(accepted):
            return self._refuse("media", 131053)
        media_id = f"up{next(self._ids)}"
        self.uploads.append(
            {
                "id": media_id,
                "type": mime,
                "filename": file.filename,
                "data": data,
                "messaging_product": form["messaging_product"],
            }
        )
        return web.json_response({"id": media_id})

    async def media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        media_id = request.match_info["media_id"]
        self.record(Call("media_info", media_id))
        if media_id in (PHONE_NUMBER_ID, SECOND_NUMBER_ID):
            return web.json_response(
                {
                    "verified_name": "Acme Support",
                    "display_phone_number": "+1 555-0100" if media_id == PHONE_NUMBER_ID else "+1 555-0199",
                    "quality_rating": "GREEN",
                    "id": media_id,
                }
            )
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

    async def subscribed_apps(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190)
        if request.match_info["waba"] != WABA_ID:
            return web.json_response(
                {"error": {"message": "Unsupported get request", "code": 100}}, status=400
            )
        app = {
            "whatsapp_business_api_data": {"link": "https://example.com/", "name": "Threadline", "id": "77"}
        }
        return web.json_response({"data": [app] if self.subscribed else []})

    async def download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        data, mime = self.media[request.match_info["media_id"]]
        self.downloads.append(request.match_info["media_id"])
        return web.Response(body=data, content_type=mime)

    async def start(self) -> None:
        """Serve the Graph API on 127.0.0.1, a free port (``url``)."""
        app = web.Application(client_max_size=101 * 1024 * 1024)  # documents up to 100 MB
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self.messages)
        app.router.add_post(f"/{VERSION}/{{number}}/media", self.upload)
        app.router.add_get("/download/{media_id}", self.download)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self.media_info)
        app.router.add_get(f"/{VERSION}/{{waba}}/subscribed_apps", self.subscribed_apps)
        await self.serve(app)


def dumps(payload: Any) -> bytes:
    """A webhook body as Meta sends it (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
