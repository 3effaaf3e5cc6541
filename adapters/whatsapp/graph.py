"""A small Graph API client for the WhatsApp Cloud API: send, upload media, fetch media.

Errors become the core's delivery errors with a reason the team can act on:
rate limits and outages are transient (retried, ``Retry-After`` honoured), the
closed 24-hour window and a bad token are permanent (shown in the thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.whatsapp.errors import remedy_for
from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports import DeliveryError, PermanentDeliveryError, TransientDeliveryError

__all__ = ["DownloadedMedia", "GraphClient", "MediaTooLarge", "graph_error"]

log = logging.getLogger(__name__)

_RATE_LIMITS = {4: 60.0, 80007: 60.0, 130429: 30.0, 131056: 10.0, 613: 60.0}
_TRANSIENT = {1, 2, 131000, 131016, 133004}
_AUTH = {190, 102, 463, 467}
_PERMISSION = {3, 10, 200, 299}
_REASONS = {
    131047: "more than 24 hours have passed since the customer last wrote (WhatsApp 131047)",
    131056: "too many messages to this customer in a short time (WhatsApp 131056)",
    130429: "the WhatsApp throughput limit was reached (130429)",
}


class MediaTooLarge(Exception):
    """The media is over ``max_media_bytes``; ``size`` is what Meta reported (0 if unknown)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


@dataclass(frozen=True)
class DownloadedMedia:
    """Bytes of a media object and what Meta says they are."""

    data: bytes
    mime_type: str


def _retry_after(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


def graph_error(status: int, body: Any, retry_after: str | None = None) -> DeliveryError:
    """The delivery error for a failed Graph API answer (``body`` is the decoded JSON, if any)."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    error = error if isinstance(error, dict) else {}
    raw_code = error.get("code")
    code: int = raw_code if isinstance(raw_code, int) else 0
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    message = str(details or error.get("message") or f"HTTP {status}")[:300]
    reason = _REASONS.get(code, f"WhatsApp refused the message (code {code}: {message})" if code else message)
    if code in _RATE_LIMITS or status == 429:
        wait = _retry_after(retry_after) or _RATE_LIMITS.get(code, 30.0)
        return TransientDeliveryError(reason, retry_after=wait)
    if code in _AUTH or status == 401:
        return PermanentDeliveryError(
            f"WhatsApp rejected the access token (code {code or status}: {message}); "
            "check WHATSAPP_ACCESS_TOKEN"
        )
    if code in _PERMISSION or status == 403:
        return PermanentDeliveryError(
            f"the access token lacks a permission (code {code or status}: {message}); "
            "give the system user whatsapp_business_messaging"
        )
    if code in _TRANSIENT or status >= 500:
        return TransientDeliveryError(f"WhatsApp is having trouble ({message.rstrip('.')})")
    return PermanentDeliveryError(reason, remedy=remedy_for(code))


class GraphClient:
    """Calls the Graph API for one phone number; one aiohttp session, opened on first use."""

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings
        self.base = f"{settings.graph_base_url}/{settings.graph_api_version}"
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token}"}

    def _messages_url(self, number: str | None) -> str:
        return f"{self.base}/{number or self.settings.phone_number_id}/messages"

    def session(self) -> aiohttp.ClientSession:
        """The shared HTTP session (created in the running loop on first use)."""
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.request_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout, headers=self._headers())
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session().request(method, url, **kwargs) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                if response.status >= 400 or (isinstance(body, dict) and "error" in body):
                    raise graph_error(response.status, body, response.headers.get("Retry-After"))
                return body if isinstance(body, dict) else {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            reason = f"could not reach the WhatsApp API ({exc.__class__.__name__})"
            raise TransientDeliveryError(reason) from None

    async def send_message(self, body: dict[str, Any], number: str | None = None) -> str:
        """POST a message object from phone number id ``number`` (default: the main one); return its wamid."""
        payload = {"messaging_product": "whatsapp", **body}
        answer = await self._call("POST", self._messages_url(number), json=payload)
        messages = answer.get("messages")
        if not isinstance(messages, list) or not messages or not messages[0].get("id"):
            raise TransientDeliveryError("WhatsApp accepted the message but returned no id")
        return str(messages[0]["id"])

    async def mark_read(self, wamid: str, number: str | None = None) -> None:
        """Tell WhatsApp the customer's message to ``number`` was read (blue ticks); failures only logged."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        try:
            await self._call("POST", self._messages_url(number), json=body)
        except DeliveryError as exc:
            log.warning("mark as read failed", extra={"reason": exc.reason[:200]})

    async def upload_media(
        self, data: bytes, mime_type: str, filename: str, number: str | None = None
    ) -> str:
        """Upload a file for sending from ``number`` (default: the main one); return its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        url = f"{self.base}/{number or self.settings.phone_number_id}/media"
        answer = await self._call("POST", url, data=form)
        if not answer.get("id"):
            raise TransientDeliveryError("WhatsApp accepted the upload but returned no media id")
        return str(answer["id"])

    async def download_media(self, media_id: str, max_bytes: int) -> DownloadedMedia:
        """``GET /{media-id}`` for the short-lived URL, then the bytes with the bearer token, at once.

        Raises MediaTooLarge over ``max_bytes`` and DeliveryError when either step fails.
        """
        info = await self._call("GET", f"{self.base}/{media_id}")
        url, mime = info.get("url"), str(info.get("mime_type") or "application/octet-stream")
        size = int(info.get("file_size") or 0)
        if not url:
            raise PermanentDeliveryError("WhatsApp returned no download URL for the media")
        if size > max_bytes:
            raise MediaTooLarge(size)
        try:
            async with self.session().get(str(url)) as response:
                if response.status >= 400:
                    raise graph_error(response.status, None, response.headers.get("Retry-After"))
                data = await response.content.read(max_bytes + 1)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientDeliveryError(f"media download failed ({exc.__class__.__name__})") from None
        if len(data) > max_bytes:
            raise MediaTooLarge(size or len(data))
        return DownloadedMedia(data, mime)
