"""Settings of the Slack surface: the ``[surfaces.slack]`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.ports.channels import ChannelRules
from bot.settings.core import Strict

__all__ = ["LABEL", "RULES", "IntakeChannel", "SlackSettings"]

LABEL = "Slack"
"""The surface as the team reads it in a notice (``Settings.destination_label``)."""

RULES = ChannelRules(name="Slack", label="Slack (intake channel)", address_kind="slack", address_form="exact")
"""Slack as a customer channel (intake channels): a customer is their Slack user id, as given."""


class IntakeChannel(Strict):
    """One ``[[surfaces.slack.intake_channels]]`` entry: a channel whose customers' messages open
    conversations in an inbox (``channel = "slack"``)."""

    channel: str = Field(description="the channel id (C…), e.g. a help channel or a Slack Connect channel")
    inbox: str = Field(description='the inbox (its channel = "slack") its conversations go to')


class SlackSettings(Strict):
    """The ``[surfaces.slack]`` section; secrets as ``${ENV_VAR}`` (interpolated by the loader)."""

    bot_token: str = Field(repr=False, description="the bot token, xoxb-…")
    app_token: str | None = Field(
        None, repr=False, description="the app-level token (xapp-…, connections:write); Socket Mode"
    )
    signing_secret: str | None = Field(
        None, repr=False, description="verifies HTTP-mode requests (X-Slack-Signature)"
    )
    mode: Literal["socket", "http"] = Field("socket", description="socket (no public URL) or http")
    api_base_url: str = Field(
        "https://slack.com/api/", description="Web API base URL (GovSlack, proxies, tests)"
    )
    http_path: str = Field("/slack/events", description="HTTP mode: the path on the shared web server")
    allowed_usergroup: str | None = Field(None, description="only members of this user group (S…) may act")
    allowed_channel: str | None = Field(None, description="only members of this channel (C…) may act")
    command: str = Field("/inbox", description="the slash command, as created in the app manifest")
    pace_per_second: float = Field(1.0, gt=0, description="messages per second per Slack channel")
    pace_burst: int = Field(3, ge=1, description="messages that may go out at once before pacing starts")
    username: str | None = Field(None, description="name shown on the bot's own posts (chat:write.customize)")
    icon_emoji: str | None = Field(None, description="icon of the bot's own posts, e.g. :inbox_tray:")
    customer_icon_emoji: str = Field(":bust_in_silhouette:", description="icon of customer messages")
    customer_icon_url: str | None = Field(
        None, description="image URL for customer messages (wins over emoji)"
    )
    rate_limit_retries: int = Field(
        2, ge=0, le=10, description="429 retries inside one API call (Retry-After)"
    )
    membership_cache_seconds: float = Field(
        300.0, ge=0, description="how long group/channel members are cached"
    )
    intake_channels: list[IntakeChannel] = Field(
        default_factory=list,
        description="channels where a top-level message opens a conversation and its thread continues it; "
        "the team works it in the inbox's staff thread, replies go to the customer's thread",
    )
    dm_inbox: str | None = Field(
        None,
        description='the inbox (its channel = "slack") a member\'s DM to the app opens or continues a '
        "conversation in; replies go back into the DM (scope im:history, event message.im)",
    )

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("the slash command starts with / and has no spaces, like /inbox")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("api_base_url must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        if not value.startswith("xoxb-"):
            raise ValueError("bot_token must be the bot token starting with xoxb- (OAuth & Permissions page)")
        return value

    @model_validator(mode="after")
    def _mode_needs(self) -> SlackSettings:
        if self.mode == "socket" and not (self.app_token or "").startswith("xapp-"):
            raise ValueError(
                'Socket Mode needs app_token = "${SLACK_APP_TOKEN}" (an xapp- token with connections:write); '
                'or set mode = "http"'
            )
        if self.mode == "http" and not self.signing_secret:
            raise ValueError('HTTP mode needs signing_secret = "${SLACK_SIGNING_SECRET}" to verify requests')
        return self
