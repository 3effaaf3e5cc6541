"""Settings of the core: the installation, inboxes, agents, the outbox, the local surface and the demo."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.settings.rules import CsatSettings
from bot.settings.sla import BusinessHoursSettings, SlaSettings, known_zone
from bot.timespec import parse_duration

__all__ = [
    "AgentSettings",
    "DemoSettings",
    "InboxSettings",
    "InstallationSettings",
    "LocalSurfaceSettings",
    "OutboxSettings",
    "Strict",
    "duration_field",
]


class Strict(BaseModel):
    """Base of every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def duration_field(value: str) -> str:
    """Validate a duration such as ``7d`` or ``30m``."""
    if parse_duration(value) is None:
        raise ValueError(f"'{value}' is not a duration; write it like 30m, 2h, 7d or 1w")
    return value


class InstallationSettings(Strict):
    """The ``[threadline]`` section."""

    database_url: str = Field(
        "sqlite:///threadline-data/threadline.db",
        description="sqlite:///path.db (embedded default) or postgresql://user@host:5432/db",
    )
    command_prefix: str = Field("!", min_length=1, max_length=3, description="prefix of in-thread commands")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    auto_register_agents: bool = Field(
        True, description="team members not listed under [agents] become agents on first use"
    )


class InboxSettings(Strict):
    """One ``[inboxes.NAME]`` section: an entry point mapped to a chat channel."""

    name: str | None = Field(None, description="display name; defaults to the section name")
    channel: Literal["email", "whatsapp", "discord", "slack"] = Field(
        description="email, whatsapp, or chat-native intake: discord (DMs to the bot, "
        "[surfaces.discord] dm_inbox) or slack ([surfaces.slack] intake_channels)"
    )
    address: str = Field(
        description="support@example.com, the WhatsApp phone number, or (discord, slack) a label"
    )
    surface: Literal["local", "slack", "discord"] = "local"
    chat_channel: str = Field(description="the Slack/Discord channel id, or a local channel name")
    timezone: str = "UTC"
    thread_messages: Literal["note", "ignore"] = Field(
        "note", description="what a plain (non-command) message in a thread becomes"
    )
    collision: Literal["confirm", "refuse", "allow"] = Field(
        "confirm", description="replying to a conversation assigned to someone else"
    )
    collision_window: str = Field(
        "2m", description="a reply this soon after a teammate's reply must be confirmed; 0m turns it off"
    )
    csat: CsatSettings | None = Field(None, description="ask for a 1-5 rating after close")
    reopen_window: str = Field("7d", description="a customer writing within this after close reopens it")
    sla: SlaSettings | None = Field(None, description="first/next response and resolution targets")
    business_hours: BusinessHoursSettings | None = Field(
        None, description="when SLA clocks run; none = always"
    )
    away_message: str | None = Field(
        None, description="automatic acknowledgement outside business hours; {next_open} is replaced"
    )

    @field_validator("reopen_window")
    @classmethod
    def _window_is_duration(cls, value: str) -> str:
        return duration_field(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @property
    def zone(self) -> ZoneInfo:
        """The inbox's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def reopen_delta(self) -> timedelta:
        """The reopen window as a timedelta."""
        return parse_duration(self.reopen_window) or timedelta(0)


class AgentSettings(Strict):
    """One ``[agents.KEY]`` section: a team member and their ids on each surface."""

    name: str
    email: str | None = None
    identities: dict[Literal["local", "slack", "discord"], str] = Field(default_factory=dict)


class OutboxSettings(Strict):
    """The ``[outbox]`` section: delivery retries and pacing."""

    max_attempts: int = Field(8, ge=1, le=100)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    poll_interval_seconds: float = Field(0.5, gt=0)
    batch_size: int = Field(50, ge=1, le=1000)
    repair_probe_seconds: float = Field(
        60.0, gt=0, description="how often a refusing chat channel or token is checked again"
    )
    queued_notice_seconds: float = Field(
        120.0,
        ge=0.0,
        le=86400.0,
        description="a delivery rate-limited this long gets one 'queued: <platform> is rate-limiting, "
        "retrying' notice in its thread (and one when it is sent)",
    )
    undo_seconds: float = Field(
        10.0,
        ge=0,
        le=600,
        description="an agent's reply waits this long in the outbox, with an Undo button and !undo; 0 = off",
    )


class LocalSurfaceSettings(Strict):
    """The ``[surfaces.local]`` section: the terminal surface."""

    agent: str = Field("you", description="who you are when typing commands in the terminal")
    color: bool = Field(
        True, description="colour the terminal (also off when NO_COLOR is set or not a terminal)"
    )
    timezone: str | None = Field(
        None, description="IANA zone every time on the terminal is shown in; defaults to the first inbox's"
    )
    files_dir: str | None = Field(
        None, description="where attachments and digest charts are saved, so they can be opened; none = kept"
    )
    shown_record: str | None = Field(
        None,
        description="a file recording which cards and posts were shown, so one in flight at a crash is "
        "not shown again after the restart; none = it may be shown twice",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            known_zone(value)
        return value


class DemoSettings(Strict):
    """The ``[demo]`` section: sample customer conversations for trying Threadline without credentials."""

    sample_conversations: bool = False
    interval_seconds: float = Field(2.0, ge=0)
    whatsapp_outbox_file: str | None = Field(
        None,
        description="write WhatsApp replies here as Cloud API request bodies (when no real WhatsApp is set)",
    )
