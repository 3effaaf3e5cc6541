"""The webhook endpoint: Meta's GET handshake, and signed POSTs answered at once and queued.

Meta retries a delivery that is not answered with 200 quickly, for days. So the
POST handler only checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body
with the app secret) and puts the raw body on a queue; parsing, media downloads
and the database happen in the channel's worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

from aiohttp import web

from adapters.whatsapp.settings import WhatsAppSettings

__all__ = ["SIGNATURE_HEADER", "WebhookReceiver", "sign_body", "verify_signature"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
"""The header carrying ``sha256=<hex HMAC of the raw body>``."""


def sign_body(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the valid signature of ``body`` (constant-time comparison)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign_body(app_secret, body), "sha256=" + header[7:].strip().lower())


class WebhookReceiver:
    """The aiohttp handlers of the webhook path and the queue of accepted bodies."""

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=settings.queue_size)
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
        """Accept a signed delivery: 200 and queued; 401 for a bad signature; 503 when the queue is full."""
        body = await request.read()
        if not verify_signature(self.settings.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.rejected += 1
            log.warning(
                "whatsapp webhook with a bad signature rejected",
                extra={"remote": request.remote, "bytes": len(body),
                       "has_signature": SIGNATURE_HEADER in request.headers},
            )
            return web.Response(status=401, text="bad signature")
        try:
            self.queue.put_nowait(body)
        except asyncio.QueueFull:
            log.error("whatsapp webhook queue full; asking Meta to retry", extra={"size": self.queue.qsize()})
            return web.Response(status=503, text="busy", headers={"Retry-After": "30"})
        self.accepted += 1
        return web.Response(text="ok")
