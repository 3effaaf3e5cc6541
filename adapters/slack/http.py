"""HTTP mode: the aiohttp route that receives Slack's Events API and interactivity requests.

The lead mounts these routes on the shared web server. Bolt verifies
``X-Slack-Signature`` (HMAC-SHA256 over ``v0:timestamp:body`` with the signing secret)
and rejects a bad signature or a timestamp more than 5 minutes off with 401.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

__all__ = ["aiohttp_handler", "aiohttp_routes"]


def aiohttp_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that dispatches one Slack request through ``app``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    return handle


def aiohttp_routes(app: AsyncApp, path: str = "/slack/events") -> list[web.RouteDef]:
    """Routes for the shared web server: POST ``path`` (events, commands, interactivity, options)."""
    return [web.post(path, aiohttp_handler(app))]
