"""The whole configuration: the core's settings plus the sections of every adapter.

``parse_config`` and ``load_config`` read a TOML file into ``AppSettings``; every error
names the key and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from adapters.discord import settings as discord_settings
from adapters.discord.settings import DiscordSettings
from adapters.email import settings as email_settings
from adapters.email.oauth_settings import secret_key_problem
from adapters.email.settings import EmailSettings
from adapters.slack import settings as slack_settings
from adapters.slack.settings import SlackSettings
from adapters.whatsapp import settings as whatsapp_settings
from adapters.whatsapp.settings import WhatsAppSettings
from bot.config import Settings, literal_secret_warnings, load_settings, parse_settings
from bot.ports.channels import ChannelRules
from bot.settings.channel import ApprovedTemplate
from bot.settings.core import LocalSurfaceSettings, Strict
from threadline.drafting import key_problem as model_key_problem

__all__ = [
    "AppSettings",
    "ChannelsSettings",
    "SurfacesSettings",
    "config_warnings",
    "load_config",
    "parse_config",
]


_CHANNEL_RULES = {
    "email": email_settings.RULES,
    "whatsapp": whatsapp_settings.RULES,
    "slack": slack_settings.RULES,
    "discord": discord_settings.RULES,
}
_SURFACE_LABELS = {"slack": slack_settings.LABEL, "discord": discord_settings.LABEL}


class SurfacesSettings(Strict):
    """The ``[surfaces]`` section; a surface is enabled by having its section."""

    local: LocalSurfaceSettings | None = None
    discord: DiscordSettings | None = None
    slack: SlackSettings | None = None


class ChannelsSettings(Strict):
    """The ``[channels]`` section."""

    email: EmailSettings | None = None
    whatsapp: WhatsAppSettings | None = None


class AppSettings(Settings):
    """The whole configuration: the core's sections, ``[surfaces]`` and ``[channels]``."""

    surfaces: SurfacesSettings = Field(default_factory=SurfacesSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)

    def surface_names(self) -> set[str]:
        """The surfaces that have a section."""
        return {name for name in SurfacesSettings.model_fields if getattr(self.surfaces, name) is not None}

    def channel_names(self) -> set[str]:
        """The channels that have a section (the demo's WhatsApp file counts as WhatsApp)."""
        names = {name for name in ChannelsSettings.model_fields if getattr(self.channels, name) is not None}
        if self.demo.whatsapp_outbox_file:
            names.add("whatsapp")
        if self.surfaces.discord is not None and self.surfaces.discord.dm_inbox:
            names.add("discord")  # DMs to the bot are a customer channel (adapters.discord.dms)
        slack = self.surfaces.slack
        if slack is not None and (slack.intake_channels or slack.dm_inbox):
            names.add("slack")  # intake channels and DMs are a customer channel (adapters.slack.intake)
        return names

    def approved_templates(self, channel: str) -> dict[str, ApprovedTemplate]:
        """The templates approved for ``channel`` (only WhatsApp declares them)."""
        whatsapp = self.channels.whatsapp
        if channel == "whatsapp" and whatsapp is not None:
            return dict(whatsapp.templates)
        return {}

    def channel_rules(self, channel: str) -> ChannelRules:
        """The rules each channel adapter declares (the demo's WhatsApp file keeps WhatsApp's); email's
        file limit is its section's ``max_attachment_bytes``."""
        email = self.channels.email
        if channel == "email" and email is not None:
            return email_settings.rules(email)
        return _CHANNEL_RULES.get(channel) or ChannelRules.generic(channel)

    def destination_label(self, destination: str) -> str:
        """Channels by their declared label, surfaces by the name their adapter declares."""
        kind, _, name = destination.partition(":")
        if kind == "surface" and name in _SURFACE_LABELS:
            return _SURFACE_LABELS[name]
        return super().destination_label(destination)

    def environment_problems(self, env: Mapping[str, str]) -> list[str]:
        """The token encryption key, when a mailbox signs in with OAuth2: missing or not a Fernet key; the
        language model's key, when ``[summary] llm`` names a variable that is not set."""
        email = self.channels.email
        uses_oauth = email is not None and bool(email.oauth_mailboxes())
        key_problem = secret_key_problem(env) if uses_oauth else None
        return [p for p in (key_problem, model_key_problem(self, env)) if p]

    def problems(self) -> list[str]:
        """The core's cross-section problems plus a channel section naming an unknown inbox."""
        problems = super().problems()
        known = ", ".join(sorted(self.inboxes))
        email = self.channels.email
        if email is not None:
            for box_name, box in email.mailboxes.items():
                if box.inbox not in self.inboxes:
                    key = f"channels.email.mailboxes.{box_name}.inbox"
                    problems.append(f"{key}: no inbox '{box.inbox}'; use one of: {known}")
        whatsapp = self.channels.whatsapp
        if whatsapp is not None and whatsapp.inbox not in self.inboxes:
            problems.append(f"channels.whatsapp.inbox: no inbox '{whatsapp.inbox}'; use one of: {known}")
        for number, fed in (whatsapp.numbers if whatsapp is not None else {}).items():
            if fed not in self.inboxes:
                problems.append(f"channels.whatsapp.numbers.{number}: no inbox '{fed}'; use one of: {known}")
        discord = self.surfaces.discord
        dm_inbox = discord.dm_inbox if discord is not None else None
        if dm_inbox and (dm_inbox not in self.inboxes or self.inboxes[dm_inbox].channel != "discord"):
            fit = ", ".join(n for n, i in self.inboxes.items() if i.channel == "discord") or "none yet"
            problems.append(
                f"surfaces.discord.dm_inbox: '{dm_inbox}' is no inbox with channel = \"discord\"; "
                f'add one ([inboxes.{dm_inbox}] channel = "discord") or use one of: {fit}'
            )
        slack = self.surfaces.slack
        slack_dms = slack.dm_inbox if slack is not None else None
        if slack_dms and (slack_dms not in self.inboxes or self.inboxes[slack_dms].channel != "slack"):
            fit = ", ".join(n for n, i in self.inboxes.items() if i.channel == "slack") or "none yet"
            problems.append(
                f"surfaces.slack.dm_inbox: '{slack_dms}' is no inbox with channel = \"slack\"; "
                f'add one ([inboxes.{slack_dms}] channel = "slack") or use one of: {fit}'
            )
        staff = {i.chat_channel for i in self.inboxes.values() if i.surface == "slack"}
        for index, intake in enumerate(slack.intake_channels if slack is not None else []):
            if intake.channel in staff:
                problems.append(
                    f"surfaces.slack.intake_channels[{index}].channel: {intake.channel} is also an inbox's "
                    "chat_channel; customers must not see the staff threads, so use a separate channel"
                )
            if intake.inbox not in self.inboxes or self.inboxes[intake.inbox].channel != "slack":
                fit = ", ".join(n for n, i in self.inboxes.items() if i.channel == "slack") or "none yet"
                problems.append(
                    f"surfaces.slack.intake_channels[{index}].inbox: '{intake.inbox}' is no inbox with "
                    f'channel = "slack"; add one or use one of: {fit}'
                )
        return problems


def parse_config(text: str, env: dict[str, str] | None = None) -> AppSettings:
    """Parse and validate TOML text; raise ConfigError listing every problem."""
    return parse_settings(text, AppSettings, env)


def load_config(path: str | Path, env: dict[str, str] | None = None) -> AppSettings:
    """Read and validate the configuration file at ``path``."""
    return load_settings(path, AppSettings, env)


def config_warnings(text: str) -> list[str]:
    """What is allowed but unwise in valid TOML text: secrets written into the file instead of ``${ENV}``."""
    return literal_secret_warnings(text, AppSettings)
