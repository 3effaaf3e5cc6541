"""``threadline doctor`` for Discord: the bot token, the Message Content intent, the bot's permissions
in each chat channel, and the forum tag a forum that requires tags needs.

Endpoints and rules from Discord's developer documentation: ``GET /users/@me`` (User resource),
``GET /applications/@me`` and its flags (Application resource, "Application Flags":
``GATEWAY_MESSAGE_CONTENT`` 1 << 19, ``GATEWAY_MESSAGE_CONTENT_LIMITED`` 1 << 18), and the bot's
permissions in a channel computed as the Permissions topic prescribes ("Permission Overwrites":
``@everyone`` and the member's roles, Administrator, then the channel's ``@everyone``, role and
member overwrites).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from adapters.discord.settings import DiscordSettings
from bot.ports.doctor import CHECK_SECONDS, CheckResult, Unreachable, reach

__all__ = ["NEEDED_PERMISSIONS", "discord_checkup"]

MESSAGE_CONTENT_FLAGS = (1 << 19) | (1 << 18)
ADMINISTRATOR = 1 << 3
REQUIRE_TAG = 1 << 4  # channel flag: a forum post needs a tag
FORUM = 15
NEEDED_PERMISSIONS = {
    "View Channels": 1 << 10,
    "Send Messages": 1 << 11,
    "Send Messages in Threads": 1 << 38,
    "Create Public Threads": 1 << 35,
    "Manage Threads": 1 << 34,
    "Embed Links": 1 << 14,
    "Attach Files": 1 << 15,
    "Read Message History": 1 << 16,
    "Add Reactions": 1 << 6,
}
"""The permissions docs/discord.md asks the invite URL for."""


class _Refused(Exception):
    """Discord answered an error: the HTTP status, Discord's code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {message} (code {code})")
        self.status, self.code = status, code


class _Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.host = session, base, urlsplit(base).netloc

    async def get(self, path: str) -> dict[str, Any]:
        return await reach(self._get(path), self.host)

    async def _get(self, path: str) -> dict[str, Any]:
        async with self.session.get(self.base + path) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
        if response.status >= 400:
            body = body if isinstance(body, dict) else {}
            raise _Refused(response.status, int(body.get("code") or 0), str(body.get("message", ""))[:200])
        return body if isinstance(body, dict) else {}


async def discord_checkup(settings: DiscordSettings, channels: Iterable[str]) -> AsyncIterator[CheckResult]:
    """Check the token, the intent, then each of ``channels`` (ids of the inboxes' and digests' channels)."""
    headers = {"Authorization": f"Bot {settings.bot_token}"}
    async with aiohttp.ClientSession(
        headers=headers, timeout=aiohttp.ClientTimeout(total=CHECK_SECONDS)
    ) as s:
        api = _Api(s, settings.api_base_url)
        try:
            me = await api.get("/users/@me")
        except (Unreachable, _Refused) as exc:
            fix = (
                "the bot token was refused; reset it under Developer Portal → Bot and put it into the "
                "variable surfaces.discord.bot_token reads"
                if isinstance(exc, _Refused) and exc.status == 401
                else f"{exc}; check api_base_url and the network"
            )
            yield CheckResult("discord", "bot token (GET /users/@me)", False, fix)
            return
        yield CheckResult("discord", f"bot token valid: @{me.get('username')} ({me.get('id')})", True)
        yield await _intent(api)
        for channel in sorted(set(channels)):
            async for result in _channel(api, settings, channel, str(me.get("id"))):
                yield result


async def _intent(api: _Api) -> CheckResult:
    what = "Message Content intent enabled"
    try:
        app = await api.get("/applications/@me")
    except (Unreachable, _Refused) as exc:
        return CheckResult("discord", what, False, str(exc))
    if int(app.get("flags") or 0) & MESSAGE_CONTENT_FLAGS:
        return CheckResult("discord", what, True)
    fix = "turn on Message Content Intent (Developer Portal → Bot → Privileged Gateway Intents)"
    return CheckResult("discord", what, False, fix)


async def _channel(
    api: _Api, settings: DiscordSettings, channel: str, bot_id: str
) -> AsyncIterator[CheckResult]:
    where = f"discord channel {channel}"
    try:
        found = await api.get(f"/channels/{channel}")
        guild_id = str(found.get("guild_id"))
        guild = await api.get(f"/guilds/{guild_id}")
        member = await api.get(f"/guilds/{guild_id}/members/{bot_id}")
    except Unreachable as exc:
        yield CheckResult(where, "bot's permissions", False, str(exc))
        return
    except _Refused as exc:
        if exc.code == 10003 or exc.status == 404:
            fix = "no such channel, or the bot is not in its server: check the id and invite the bot"
        elif exc.status == 403:
            fix = "the bot cannot see this channel: give its role View Channels there"
        else:
            fix = str(exc)
        yield CheckResult(where, "bot's permissions", False, fix)
        return
    name = f"#{found.get('name')}" if found.get("name") else channel
    granted = channel_permissions(guild, member, found, bot_id)
    missing = [label for label, bit in NEEDED_PERMISSIONS.items() if not granted & bit]
    if missing:
        fix = f"give the bot's role {', '.join(missing)} in {name} (channel settings → Permissions)"
        yield CheckResult(where, f"bot's permissions in {name}: {len(missing)} missing", False, fix)
    else:
        yield CheckResult(where, f"bot's permissions in {name}: all {len(NEEDED_PERMISSIONS)}", True)
    if found.get("type") == FORUM:
        yield _forum_tags(where, name, found, settings.default_forum_tag)


def _forum_tags(where: str, name: str, forum: dict[str, Any], default_tag: str | None) -> CheckResult:
    tags = [str(t.get("name")) for t in forum.get("available_tags") or []]
    required = bool(int(forum.get("flags") or 0) & REQUIRE_TAG)
    if default_tag is not None and default_tag not in tags:
        fix = f"surfaces.discord.default_forum_tag '{default_tag}' is not a tag of {name}; use one of: "
        return CheckResult(where, "default forum tag", False, fix + (", ".join(tags) or "(none)"))
    if required and default_tag is None:
        fix = (
            f"{name} requires a tag on every post: set surfaces.discord.default_forum_tag to one of: "
            f"{', '.join(tags) or '(none; add a tag to the forum)'}"
        )
        return CheckResult(where, "forum tag for posts without a matching label", False, fix)
    what = f"forum tags: default '{default_tag}'" if default_tag else "forum tags: none required"
    return CheckResult(where, what, True)


def channel_permissions(
    guild: dict[str, Any], member: dict[str, Any], channel: dict[str, Any], user: str
) -> int:
    """The member's permissions in ``channel``, as Discord's Permissions topic computes them."""
    everything = (1 << 53) - 1
    if str(guild.get("owner_id")) == user:
        return everything
    guild_id = str(guild.get("id"))
    roles = {str(r["id"]): int(r.get("permissions") or 0) for r in guild.get("roles") or []}
    member_roles = [str(r) for r in member.get("roles") or []]
    permissions = roles.get(guild_id, 0)
    for role in member_roles:
        permissions |= roles.get(role, 0)
    if permissions & ADMINISTRATOR:
        return everything
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites") or []}

    def apply(value: int, allow: int, deny: int) -> int:
        return (value & ~deny) | allow

    if everyone := overwrites.get(guild_id):
        permissions = apply(permissions, int(everyone.get("allow") or 0), int(everyone.get("deny") or 0))
    allow = deny = 0
    for role in member_roles:
        if found := overwrites.get(role):
            allow |= int(found.get("allow") or 0)
            deny |= int(found.get("deny") or 0)
    permissions = apply(permissions, allow, deny)
    if own := overwrites.get(user):
        permissions = apply(permissions, int(own.get("allow") or 0), int(own.get("deny") or 0))
    return permissions
