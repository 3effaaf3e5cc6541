"""Turning Slack Web API failures into the core's delivery errors.

Refusals that last until someone fixes the setup become ``SurfaceRefused``: for the channel of the call
(``not_in_channel``, ``channel_not_found``, ``is_archived``) or for the whole surface (``invalid_auth``,
``not_authed``, ``token_revoked``, ``account_inactive``, ``missing_scope``), as chat.postMessage
documents them (https://docs.slack.dev/reference/methods/chat.postMessage, "Errors").
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.ports import (
    DeliveryError,
    PermanentDeliveryError,
    SurfaceRefused,
    ThreadGone,
    TransientDeliveryError,
)

__all__ = ["AUTH_ERRORS", "CHANNEL_ERRORS", "GONE_ERRORS", "PERMANENT_REASONS", "delivery_error", "refusal"]

GONE_ERRORS = frozenset({"message_not_found", "thread_not_found", "cant_update_message"})
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "missing_scope"})
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
PERMANENT_REASONS = {
    "channel_not_found": "no such Slack channel, or the bot cannot see it; check inboxes.*.chat_channel",
    "not_in_channel": "the bot is not a member of the Slack channel; invite it with /invite @Threadline",
    "is_archived": "the Slack channel is archived; unarchive it or map the inbox to another channel",
    "invalid_auth": "the Slack bot token is invalid; check surfaces.slack.bot_token",
    "not_authed": "no Slack bot token was sent; check surfaces.slack.bot_token",
    "token_revoked": "the Slack bot token was revoked; reinstall the app",
    "account_inactive": "the Slack app's account is inactive; reinstall the app",
    "missing_scope": "the Slack app lacks the scope {needed}; add it (docs/slack-manifest.yaml), reinstall",
    "msg_too_long": "the message is too long for Slack",
    "invalid_blocks": "Slack rejected the message layout (invalid_blocks)",
}


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", None) or {}
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0


def refusal(code: str, needed: str = "it needs", channel: str = "") -> SurfaceRefused:
    """The refusal for a Slack error code of ``AUTH_ERRORS`` (the whole surface) or ``CHANNEL_ERRORS``."""
    reason = PERMANENT_REASONS[code].format(needed=needed)
    where = f" in {channel}" if channel and code in CHANNEL_ERRORS else ""
    return SurfaceRefused(f"{reason} ({code}{where})", "surface" if code in AUTH_ERRORS else "channel")


def delivery_error(exc: BaseException) -> DeliveryError:
    """The delivery error for a failed Slack call (429 → transient with Retry-After, gone → ThreadGone)."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        code = str(exc.response.get("error", "")) if exc.response is not None else ""
        if status == 429 or code == "ratelimited":
            return TransientDeliveryError("Slack rate limit (429)", retry_after=_retry_after(exc))
        if code in GONE_ERRORS:
            return ThreadGone(f"the Slack card or thread is gone ({code})")
        if code in AUTH_ERRORS or code in CHANNEL_ERRORS:
            return refusal(code, str(exc.response.get("needed") or "it needs"))
        if code in PERMANENT_REASONS:
            needed = str(exc.response.get("needed") or "it needs")
            return PermanentDeliveryError(f"{PERMANENT_REASONS[code].format(needed=needed)} ({code})")
        if status >= 500 or code in (
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
        ):
            return TransientDeliveryError(f"Slack is unavailable ({status} {code})")
        return PermanentDeliveryError(f"Slack refused the message ({code or status})")
    if isinstance(exc, SlackClientError | aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TransientDeliveryError(f"cannot reach Slack ({exc.__class__.__name__})")
    return TransientDeliveryError(f"unexpected Slack failure ({exc.__class__.__name__})")
