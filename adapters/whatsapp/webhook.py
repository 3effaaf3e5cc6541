"""The webhook endpoint: Meta's GET handshake, and signed POSTs journaled before they are answered.

Meta retries a delivery that is not answered with 200, with growing delays, and never
redelivers one it got a 200 for (WhatsApp Cloud API webhooks; a provider's copy of the
same rules: docs.360dialog.com/docs/waba-basics/webhook-events-and-notifications, "if the
webhook request returns a HTTP status code other than 200, we retry the webhook delivery").
So the POST handler checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
the app secret), commits the raw body to the intake journal (``bot.ingest.journal``,
group-committed), and only then answers 200. Parsing, media downloads and ingest happen
in the journal worker. While the instance stops, or when the database cannot take the
body, the answer is 503 and Meta delivers it again later.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.whatsapp.settings import WhatsAppSettings
from bot.ingest.journal import IntakeClosed

__all__ = ["SIGNATURE_HEADER", "Record", "WebhookReceiver", "sign_body", "verify_signature"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
"""The header carrying ``sha256=<hex HMAC of the raw body>``."""

Record = Callable[[bytes], Awaitable[None]]
"""Commits one accepted body to the intake journal; returns once it is durable."""
_RETRY_AFTER = {"Retry-After": "30"}


def sign_body(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the valid signature of ``body`` (constant-time comparison)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign_body(app_secret, body), "sha256=" + header[7:].strip().lower())


class WebhookReceiver:
    """The aiohttp handlers of the webhook path; accepted bodies go to ``record`` before the 200."""

    def __init__(self, settings: WhatsAppSettings, record: Record) -> None:
        self.settings = settings
        self.record = record
        self.accepted = 0
        self.rejected = 0

    def routes(self) -> list[web.RouteDef]:
        """GET (handshake) and POST (deliveries) on the configured path."""
        path = self.settings.webhook_path
        return [web.get(path, self.handshake), web.post(path, self.receive)]

    async def handshake(self, request: web.Request) -> web.Response:
        """Echo ``hub.challenge`` when ``hub.mode=subscribe`` and the verify token matches; else 403."""
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), self.settings.verify_token.encode()
        ):
            log.info("whatsapp webhook verified")
            return web.Response(text=query.get("hub.challenge", ""))
        log.warning("whatsapp webhook verification refused", extra={"mode": query.get("hub.mode", "")[:20]})
        return web.Response(status=403, text="verification failed")

    async def receive(self, request: web.Request) -> web.Response:
        """Accept a signed delivery: 200 once journaled; 401 for a bad signature; 503 when it cannot be."""
        body = await request.read()
        if not verify_signature(self.settings.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.rejected += 1
            log.warning(
                "whatsapp webhook with a bad signature rejected",
                extra={
                    "remote": request.remote,
                    "bytes": len(body),
                    "has_signature": SIGNATURE_HEADER in request.headers,
                },
            )
            return web.Response(status=401, text="bad signature")
        try:
            await self.record(body)
        except IntakeClosed:
            return web.Response(status=503, text="stopping", headers=_RETRY_AFTER)
        except Exception as exc:
            log.error(
                "whatsapp webhook could not be journaled; asking Meta to retry",
                extra={"error": exc.__class__.__name__},
            )
            return web.Response(status=503, text="busy", headers=_RETRY_AFTER)
        self.accepted += 1
        return web.Response(text="ok")
