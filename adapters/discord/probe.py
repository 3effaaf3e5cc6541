"""The Discord surface's probe: does the token, or one chat channel, work again?

The token is checked with ``GET /users/@me`` (User resource, "Get Current User"); a chat channel by
fetching it again, bypassing the surface's cache: 403 50001 Missing Access and 404 10003 Unknown
Channel raise the same ``SurfaceRefused`` a delivery there would
(https://discord.com/developers/docs/resources/channel#get-channel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.http import HTTPClient, Route

from adapters.discord.errors import delivery_error
from bot.ports import WHOLE_SURFACE, TransientDeliveryError

__all__ = ["probe_scope"]


async def probe_scope(
    http: HTTPClient, scope: str, fetch: Callable[[str], Awaitable[Any]], cache: dict[str, Any]
) -> None:
    """Return when ``scope`` works; raise its delivery error (``SurfaceRefused`` while refused)."""
    if http.token is None:  # not signed in yet (the gateway is still connecting): nothing to tell
        raise TransientDeliveryError("not signed in to Discord yet")
    if scope == WHOLE_SURFACE:
        try:
            await http.request(Route("GET", "/users/@me"))
        except (discord.HTTPException, OSError, TimeoutError) as exc:
            raise delivery_error(exc, "the bot token", thread=False) from exc
        return
    cache.pop(scope, None)
    await fetch(scope)
