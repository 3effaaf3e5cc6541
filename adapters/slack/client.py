"""The Slack Web API client Threadline uses: configurable base URL, 429s retried after ``Retry-After``."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings

__all__ = ["make_client"]


def make_client(settings: SlackSettings, *, timeout: int = 30) -> AsyncWebClient:
    """An ``AsyncWebClient`` on ``api_base_url`` that retries 429 (after Retry-After) and dropped connections.

    After ``rate_limit_retries`` the 429 reaches the surface, which turns it into a
    ``TransientDeliveryError(retry_after=…)`` so the outbox backs off the whole surface.
    """
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler(max_retry_count=1)]
    if settings.rate_limit_retries:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=settings.rate_limit_retries))
    return AsyncWebClient(
        token=settings.bot_token, base_url=settings.api_base_url, timeout=timeout, retry_handlers=handlers
    )
