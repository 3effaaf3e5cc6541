"""Settings of the Discord surface (``[surfaces.discord]``).

The bot token arrives already interpolated from a ``${ENV}`` reference by the
configuration loader. Whether an inbox's ``chat_channel`` is a text channel
(conversations become public threads) or a forum channel (one post per
conversation, labels also shown as forum tags) is read from Discord itself.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.ports.channels import ChannelRules
from bot.settings.core import Strict

__all__ = ["DEFAULT_DISCORD_API", "DEFAULT_DISCORD_GATEWAY", "LABEL", "RULES", "DiscordSettings"]

LABEL = "Discord"
"""The surface as the team reads it in a notice (``Settings.destination_label``)."""

RULES = ChannelRules(name="Discord", label="Discord (DM)", address_kind="discord", address_form="exact")
"""Discord as a customer channel (DMs to the bot): a customer is their Discord user id, as given."""

DEFAULT_DISCORD_API = "https://discord.com/api/v10"
"""Discord's REST API; a rate-limit proxy (or a test server) may stand in front of it."""
DEFAULT_DISCORD_GATEWAY = "wss://gateway.discord.gg/"
"""Discord's gateway (websocket); a test server may stand in for it."""


class DiscordSettings(Strict):
    """The ``[surfaces.discord]`` section."""

    bot_token: str = Field(
        min_length=1, repr=False, description="the bot token; write it as ${DISCORD_BOT_TOKEN}"
    )
    guild_ids: list[int] = Field(
        default_factory=list,
        description="guilds (servers) the bot serves; app commands are synced to each at once. "
        "Empty: commands are registered globally and any guild the bot is in is served",
    )
    api_base_url: str = Field(DEFAULT_DISCORD_API, description="REST base URL, e.g. a rate-limit proxy")
    gateway_url: str = Field(DEFAULT_DISCORD_GATEWAY, description="gateway (websocket) URL")
    agent_role: str | None = Field(
        None, description="role id (or exact role name) whose holders may act; unset: every guild member"
    )
    pace_messages: int = Field(5, ge=1, le=50, description="messages the outbox sends per channel per window")
    pace_seconds: float = Field(5.0, gt=0, description="the pacing window in seconds (Discord: 5 per 5 s)")
    rate_limit_wait_seconds: float = Field(
        30.0,
        ge=30.0,
        description="discord.py sleeps through 429s up to this long; longer ones go back "
        "to the outbox with their Retry-After (discord.py's minimum is 30)",
    )
    defer_after_seconds: float = Field(
        1.5, gt=0, lt=3, description="a command still running after this is deferred (Discord allows 3 s)"
    )
    archive_on_close: bool = Field(True, description="archive a conversation's thread when it is closed")
    sync_commands: bool = Field(True, description="register the app commands with Discord at start")
    queue_message: bool = Field(
        False, description="keep a pinned queue message in each inbox channel, edited in place"
    )
    dm_inbox: str | None = Field(
        None,
        description='the inbox (channel = "discord") a user\'s DM to the bot opens a conversation in; '
        "replies go back as DMs. None: DMs are not read (needs the Direct Messages intent)",
    )
    dm_catch_up_days: int = Field(
        7,
        ge=1,
        le=365,
        description="on each gateway READY, the DM channels of users who wrote this many days back are "
        "read for DMs missed while down",
    )
    default_forum_tag: str | None = Field(
        None,
        description="forum tag (its name) put on a post when none of its labels matches a tag; "
        "needed when the forum requires tags",
    )

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL; use e.g. {DEFAULT_DISCORD_API}")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"'{value}' is not a ws(s) URL; use e.g. {DEFAULT_DISCORD_GATEWAY}")
        return value

    @field_validator("agent_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("agent_role is empty; give a role id or name, or remove the key")
        return value.strip() if value is not None else None
