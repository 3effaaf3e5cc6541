"""JSON shapes the fake Discord answers with (users, application, commands, threads, messages, errors)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = [
    "APP_ID",
    "BOT_ID",
    "GUILD_ID",
    "NOW",
    "FakeError",
    "application",
    "callback",
    "command_echo",
    "json_response",
    "message",
    "reaction",
    "thread",
    "user",
]

BOT_ID = 900000000000000001
APP_ID = 900000000000000002
GUILD_ID = 800000000000000001
NOW = "2026-01-05T09:00:00.000000+00:00"


class FakeError(Exception):
    """An error answer: HTTP status and Discord's JSON error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with exactly ``Content-Type: application/json`` (discord.py compares it verbatim)."""
    headers = {**(headers or {}), "Content-Type": "application/json"}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(uid),
        "username": name,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": bot,
    }


def reaction(
    *,
    channel_id: int,
    message_id: int,
    user_id: int,
    emoji: str,
    member: dict[str, Any] | None,
    removed: bool = False,
    author_id: int | None = None,
) -> dict[str, Any]:
    """A MESSAGE_REACTION_ADD (or, ``removed``, MESSAGE_REACTION_REMOVE) gateway dispatch's data.

    As https://discord.com/developers/docs/events/gateway-events#message-reaction-add lists it:
    ``user_id``, ``channel_id``, ``message_id``, ``guild_id``, ``member`` (add only: "only in
    guilds"), ``emoji`` (a partial emoji: ``id`` null and ``name`` the character for a standard
    one; ``:name:`` written here means a custom emoji with a snowflake id), ``message_author_id``
    (add only), ``burst``, ``burst_colors`` (add only) and ``type`` (0 normal, 1 burst). REMOVE
    carries no member (#message-reaction-remove).
    """
    custom = emoji.startswith(":") and emoji.endswith(":") and len(emoji) > 2
    data: dict[str, Any] = {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "guild_id": str(GUILD_ID),
        "emoji": {"id": "910000000000000001", "name": emoji[1:-1]} if custom else {"id": None, "name": emoji},
        "burst": False,
        "type": 0,
    }
    if not removed:
        data.update(member=member, message_author_id=str(author_id or BOT_ID), burst_colors=[])
    return data


def application() -> dict[str, Any]:
    """GET /oauth2/applications/@me."""
    return {
        "id": str(APP_ID),
        "name": "Threadline",
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user(1, "owner"),
        "verify_key": "00",
        "flags": 0,
        "rpc_origins": [],
        "summary": "",
    }


def command_echo(command: dict[str, Any], command_id: int) -> dict[str, Any]:
    """A synced application command as Discord returns it."""
    return {
        "type": 1,
        "default_member_permissions": None,
        "dm_permission": True,
        "nsfw": False,
        **command,
        "id": str(command_id),
        "application_id": str(APP_ID),
        "version": "1",
    }


def thread(tid: int, parent: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A thread channel created under ``parent`` (forum posts are public threads too)."""
    kind = 11 if parent["type"] == 15 else body.get("type", 11)
    metadata = {
        "archived": False,
        "auto_archive_duration": body.get("auto_archive_duration", 4320),
        "archive_timestamp": NOW,
        "locked": False,
    }
    return {
        "id": str(tid),
        "type": kind,
        "guild_id": str(GUILD_ID),
        "parent_id": parent["id"],
        "owner_id": str(BOT_ID),
        "name": body["name"],
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": body.get("applied_tags", []),
        "thread_metadata": metadata,
    }


def message_fields(**fields: Any) -> dict[str, Any]:
    """A gateway MESSAGE_CREATE's message object: the fields Discord always sends, with ``fields``
    (id, channel_id, author, content, attachments, ...) over them."""
    return {
        "type": 0,
        "content": "",
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "tts": False,
        "timestamp": "2026-01-05T09:00:00+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
        "mention_everyone": False,
        **fields,
    }


def message(
    mid: int, cid: int, body: dict[str, Any], files: list[tuple[str, bytes, int]], *, webhook: bool = False
) -> dict[str, Any]:
    """A message as stored and returned; ``files`` are (name, data, attachment id)."""
    attachments = [
        {
            "id": str(aid),
            "filename": name,
            "size": len(data),
            "url": f"https://cdn.example/{name}",
            "proxy_url": f"https://cdn.example/{name}",
        }
        for name, data, aid in files
    ]
    return {
        "id": str(mid),
        "channel_id": str(cid),
        "type": 0,
        "content": body.get("content") or "",
        "author": user(APP_ID if webhook else BOT_ID, "threadline", bot=True),
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "attachments": attachments,
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "timestamp": NOW,
        "edited_timestamp": None,
        "flags": body.get("flags", 0),
        "allowed_mentions": body.get("allowed_mentions"),
        "nonce": body.get("nonce"),
    }


def callback(interaction_id: int, body: dict[str, Any], message_id: int) -> dict[str, Any]:
    """The answer to POST /interactions/{id}/{token}/callback?with_response=1."""
    data = body.get("data") or {}
    return {
        "interaction": {
            "id": str(interaction_id),
            "type": 2,
            "response_message_id": str(message_id),
            "response_message_loading": body.get("type") == 5,
            "response_message_ephemeral": bool(int(data.get("flags", 0) or 0) & 64),
        }
    }
