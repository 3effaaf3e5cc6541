"""Translation of discord.py's errors into the core's delivery errors.

discord.py already sleeps through short 429s (its per-route buckets) and retries
5xx; what reaches us is a rate limit longer than ``rate_limit_wait_seconds``
(``RateLimited``), retries that ran out, or a refusal. Refusals that last until someone fixes the setup
are ``SurfaceRefused``: 401 (the token, the whole surface), 403 50001 Missing Access / 50013 Missing
Permissions and 404 10003 Unknown Channel for the chat channel (the channel of the call;
https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
"""

from __future__ import annotations

import aiohttp
import discord

from bot.ports import (
    DeliveryError,
    PermanentDeliveryError,
    SurfaceRefused,
    ThreadGone,
    TransientDeliveryError,
)

__all__ = [
    "ACTIVE_THREADS_FULL",
    "ARCHIVED_THREAD",
    "INTENT_MISSING",
    "TAG_REQUIRED",
    "THREADS_FULL_NOTICE",
    "TOKEN_REFUSED",
    "UNKNOWN_CHANNEL",
    "UNKNOWN_MESSAGE",
    "delivery_error",
]

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
ARCHIVED_THREAD = 50083
TAG_REQUIRED = 40067
_MISSING_ACCESS = 50001
_MISSING_PERMISSIONS = 50013
_THREAD_LOCKED = 160005
ACTIVE_THREADS_FULL = 160006

THREADS_FULL_NOTICE = (
    "⚠ Discord's limit of active threads in this server is reached: new conversations wait here until "
    "threads are archived (close finished conversations, or archive old threads). Threadline retries "
    "with backoff."
)
"""The notice posted in the chat channel when no new thread can be opened (160006)."""

TOKEN_REFUSED = (
    "Discord refused the bot token (401 Unauthorized); reset the token in the developer portal "
    "(Bot → Reset Token), put it in the environment variable surfaces.discord.bot_token names, and restart"
)
"""The one message for a refused token: it is permanent until the token is replaced."""

INTENT_MISSING = (
    "Discord closed the gateway (4014 disallowed intents): turn on Message Content Intent in the "
    "developer portal (Bot → Privileged Gateway Intents) and restart; no command, button or message "
    "works until then (see docs/discord.md)"
)
"""The one message for the Message Content intent not enabled."""

_PERMISSION_HINT = (
    "the bot needs View Channel, Send Messages, Send Messages in Threads, Create Public Threads, "
    "Embed Links, Attach Files, Read Message History and Manage Threads there (see docs/discord.md)"
)


def delivery_error(exc: BaseException, where: str, *, thread: bool = True) -> DeliveryError:
    """The delivery error for ``exc`` raised while posting to ``where`` (a thread, or a chat channel).

    ``thread`` says whether ``where`` is a conversation's thread (a missing one is recreated)
    or the inbox's chat channel (a missing one is a configuration error).
    """
    if isinstance(exc, discord.RateLimited):
        return TransientDeliveryError(f"Discord rate limit on {where}", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException) and exc.code == _THREAD_LOCKED:
        return PermanentDeliveryError(
            f"a moderator locked Discord {where}; unlock it (thread menu → Unlock Thread) and retry"
        )
    if isinstance(exc, discord.HTTPException) and exc.code == ACTIVE_THREADS_FULL:
        return PermanentDeliveryError(
            "the Discord server has reached its limit of active threads (160006); archive or close "
            "older threads (or conversations) and retry"
        )
    if isinstance(exc, discord.HTTPException) and exc.code == TAG_REQUIRED:
        return PermanentDeliveryError(
            f"the Discord forum {where} requires a tag on every post (40067); set "
            "surfaces.discord.default_forum_tag to one of its tags, or turn off 'Require tags'"
        )
    if isinstance(exc, discord.NotFound):
        if thread and exc.code in (UNKNOWN_CHANNEL, UNKNOWN_MESSAGE):
            return ThreadGone(f"Discord {where} is gone ({exc.code} {exc.text or 'not found'})")
        return SurfaceRefused(
            f"Discord {where} does not exist or the bot cannot see it ({exc.code}); "
            "check inboxes.*.chat_channel and the bot's access to it"
        )
    if isinstance(exc, discord.Forbidden) and exc.code in (_MISSING_ACCESS, _MISSING_PERMISSIONS):
        what = "has no access to" if exc.code == _MISSING_ACCESS else "lacks a permission in"
        return SurfaceRefused(f"the Discord bot {what} {where} ({exc.code} {exc.text}); {_PERMISSION_HINT}")
    if isinstance(exc, discord.Forbidden):
        return PermanentDeliveryError(f"Discord refused the request on {where} ({exc.code} {exc.text})")
    if isinstance(exc, discord.DiscordServerError):
        return TransientDeliveryError(f"Discord server error {exc.status} on {where}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
            return TransientDeliveryError(f"Discord rate limit on {where}", retry_after=_seconds(retry))
        if exc.status == 401:
            return SurfaceRefused(TOKEN_REFUSED, "surface")
        return PermanentDeliveryError(
            f"Discord refused the request on {where} ({exc.status} {exc.code} {exc.text})"
        )
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return TransientDeliveryError(f"cannot reach Discord ({exc.__class__.__name__})")
    return TransientDeliveryError(f"unexpected Discord error {exc.__class__.__name__}")


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
