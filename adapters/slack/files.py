"""Files an agent attached to a Slack message, fetched so they can go to the customer with a reply.

A file's ``url_private_download`` needs the bot token as a Bearer header and the ``files:read``
scope (https://docs.slack.dev/messaging/working-with-files, "Downloading files"); without them
Slack answers its sign-in page with 200, so an HTML answer for a file that is not HTML counts
as not fetched. Files over ``limit`` are not fetched: the core refuses them by their size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import aiohttp

from bot.ports.inbound import InboundAttachment

__all__ = ["FETCH_LIMIT", "fetch_files"]

log = logging.getLogger(__name__)
FETCH_LIMIT = 100 * 1024 * 1024  # the largest file any customer channel takes (a WhatsApp document)


async def _fetch(
    session: aiohttp.ClientSession, meta: dict[str, Any], token: str, limit: int
) -> bytes | None:
    url, size = meta.get("url_private_download") or meta.get("url_private"), int(meta.get("size") or 0)
    if not url or size > limit:
        return None
    try:
        async with session.get(str(url), headers={"Authorization": f"Bearer {token}"}) as response:
            html = response.content_type == "text/html" and "html" not in str(meta.get("mimetype"))
            if response.status != 200 or html:
                log.warning(
                    "slack file not fetched", extra={"file": meta.get("id"), "status": response.status}
                )
                return None
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("slack file not fetched", extra={"file": meta.get("id"), "error": exc.__class__.__name__})
        return None


async def fetch_files(
    files: Iterable[dict[str, Any]], token: str, limit: int = FETCH_LIMIT
) -> tuple[InboundAttachment, ...]:
    """The files of a message event as attachments; one that could not be fetched has ``data`` None."""
    out: list[InboundAttachment] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for meta in files:
            data = await _fetch(session, meta, token, limit)
            out.append(
                InboundAttachment(
                    filename=str(meta.get("name") or meta.get("title") or "file"),
                    content_type=str(meta.get("mimetype") or "application/octet-stream"),
                    size=len(data) if data is not None else int(meta.get("size") or 0),
                    data=data,
                )
            )
    return tuple(out)
