"""``threadline doctor`` for Slack: the bot token, the app's scopes, and the bot in each chat channel.

``auth.test`` proves the token and names the bot; its ``x-oauth-scopes`` response header lists
the scopes the token was granted (https://docs.slack.dev/reference/methods/auth.test), compared
with the manifest's; ``conversations.info`` answers ``is_member`` for each configured channel
(https://docs.slack.dev/reference/methods/conversations.info).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings
from bot.ports.doctor import CHECK_SECONDS, CheckResult, Unreachable, reach

__all__ = ["NEEDED_SCOPES", "slack_checkup"]

NEEDED_SCOPES = (
    "chat:write",
    "chat:write.customize",
    "commands",
    "files:write",
    "files:read",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "reactions:read",
    "im:history",
    "team:read",
)
"""The bot scopes of ``docs/slack-manifest.yaml`` (a test keeps the two equal)."""

_TOKEN_FIX = {
    "invalid_auth": "the bot token is not valid; copy the Bot User OAuth Token (xoxb-…) from "
    "OAuth & Permissions into the variable surfaces.slack.bot_token reads",
    "not_authed": "no bot token was sent; set surfaces.slack.bot_token",
    "token_revoked": "the bot token was revoked; reinstall the app and copy the new xoxb- token",
    "account_inactive": "the app was uninstalled or its workspace deleted; reinstall it",
}


async def slack_checkup(settings: SlackSettings, channels: Iterable[str]) -> AsyncIterator[CheckResult]:
    """Check the token, the scopes and membership of each of ``channels`` (the inboxes' and digests')."""
    host = urlsplit(settings.api_base_url).netloc
    client = AsyncWebClient(
        token=settings.bot_token, base_url=settings.api_base_url, timeout=int(CHECK_SECONDS)
    )
    try:
        auth = await reach(client.auth_test(), host)
    except Unreachable as exc:
        yield CheckResult(
            "slack", "bot token (auth.test)", False, f"{exc}; check the network and api_base_url"
        )
        return
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) or f"HTTP {exc.response.status_code}"
        fix = _TOKEN_FIX.get(error, f"Slack answered {error}; check surfaces.slack.bot_token")
        yield CheckResult("slack", "bot token (auth.test)", False, fix)
        return
    team = auth.get("team") or auth.get("team_id")
    bot = f"@{auth.get('user', '?')} ({auth.get('user_id', '?')}) in team {team}"
    yield CheckResult("slack", f"bot token valid: {bot}", True)
    granted = {s.strip() for s in str(auth.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    missing = [scope for scope in NEEDED_SCOPES if scope not in granted]
    if missing:
        fix = (
            f"add the bot scopes {', '.join(missing)} (OAuth & Permissions, or paste "
            "docs/slack-manifest.yaml again), then reinstall the app"
        )
        yield CheckResult("slack", f"scopes: {len(missing)} of {len(NEEDED_SCOPES)} missing", False, fix)
    else:
        yield CheckResult("slack", f"scopes: all {len(NEEDED_SCOPES)} granted", True)
    for channel in sorted(set(channels)):
        yield await _member_of(client, host, channel, str(auth.get("user") or "Threadline"))


async def _member_of(client: AsyncWebClient, host: str, channel: str, bot: str) -> CheckResult:
    where = f"slack channel {channel}"
    try:
        info = await reach(client.conversations_info(channel=channel), host)
    except Unreachable as exc:
        return CheckResult(where, "bot is a member", False, str(exc))
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error == "channel_not_found":
            fix = (
                "no such channel, or a private one the bot is not in: check the id (C…, under the "
                "channel name → About) and /invite the bot"
            )
        elif error == "missing_scope":
            fix = "the token lacks channels:read / groups:read; add them and reinstall the app"
        else:
            fix = f"Slack answered {error}"
        return CheckResult(where, "bot is a member", False, fix)
    found = info.get("channel") or {}
    name = f"#{found.get('name')}" if found.get("name") else channel
    if found.get("is_member"):
        return CheckResult(where, f"bot is a member of {name}", True)
    return CheckResult(where, f"bot is a member of {name}", False, f"type /invite @{bot} in {name}")
