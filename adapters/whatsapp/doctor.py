"""``threadline doctor`` for WhatsApp: the access token and each phone number id, and the app's
subscription to the business account's webhooks.

``GET /{phone-number-id}`` answers the number's display number and verified name for a token that
may use it (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers);
``GET /{waba-id}/subscribed_apps`` lists the apps whose webhook receives the account's messages
(https://developers.facebook.com/docs/whatsapp/cloud-api/guides/set-up-webhooks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from adapters.whatsapp.settings import WhatsAppSettings
from bot.ports.doctor import CHECK_SECONDS, CheckResult, Unreachable, reach

__all__ = ["whatsapp_checkup"]

_TOKEN_FIX = (
    "the access token was refused; create a new system-user token with whatsapp_business_messaging "
    "and put it into the variable channels.whatsapp.access_token reads"
)


class _Refused(Exception):
    """The Graph API answered an error: its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


async def whatsapp_checkup(settings: WhatsAppSettings) -> AsyncIterator[CheckResult]:
    """Check the token on every phone number id, then the webhook subscription (needs ``waba_id``)."""
    base = f"{settings.graph_base_url}/{settings.graph_api_version}"
    host = urlsplit(settings.graph_base_url).netloc
    headers = {"Authorization": f"Bearer {settings.access_token}"}
    timeout = aiohttp.ClientTimeout(total=CHECK_SECONDS)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        numbers = {settings.phone_number_id: "channels.whatsapp.phone_number_id"}
        numbers.update({number: f"channels.whatsapp.numbers.{number}" for number in settings.numbers})
        for number, key in numbers.items():
            what = f"access token and phone number id {number}"
            try:
                found = await reach(_get(session, f"{base}/{number}"), host)
            except Unreachable as exc:
                yield CheckResult("whatsapp", what, False, f"{exc}; check graph_base_url and the network")
                return
            except _Refused as exc:
                if exc.code == 190:
                    yield CheckResult("whatsapp", what, False, _TOKEN_FIX)
                    return
                fix = (
                    f"Meta answered code {exc.code} ({exc}); {key} must be the phone number id from "
                    "WhatsApp → API Setup (not the phone number), readable by this token"
                )
                yield CheckResult("whatsapp", what, False, fix)
                continue
            shown = found.get("display_phone_number") or number
            name = f" ({found['verified_name']})" if found.get("verified_name") else ""
            yield CheckResult("whatsapp", f"access token and phone number id {number}: {shown}{name}", True)
        yield await _subscription(session, base, host, settings.waba_id)


async def _subscription(
    session: aiohttp.ClientSession, base: str, host: str, waba_id: str | None
) -> CheckResult:
    what = "app subscribed to the business account's webhooks"
    if waba_id is None:
        return CheckResult(
            "whatsapp",
            f"{what}: skipped, set channels.whatsapp.waba_id (WhatsApp → API Setup) to check it",
            True,
        )
    try:
        answer = await reach(_get(session, f"{base}/{waba_id}/subscribed_apps"), host)
    except Unreachable as exc:
        return CheckResult("whatsapp", what, False, str(exc))
    except _Refused as exc:
        fix = f"Meta answered code {exc.code} ({exc}); check channels.whatsapp.waba_id and the token's access"
        return CheckResult("whatsapp", what, False, fix)
    if not answer.get("data"):
        fix = (
            f"no app receives this account's messages; subscribe it with POST /{waba_id}/subscribed_apps "
            "(or WhatsApp → Configuration → Webhook fields: messages)"
        )
        return CheckResult("whatsapp", what, False, fix)
    return CheckResult("whatsapp", what, True)


async def _get(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url) as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.status >= 400 or error:
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        raise _Refused(
            code if isinstance(code, int) else response.status, str(error.get("message", ""))[:200]
        )
    return body if isinstance(body, dict) else {}
