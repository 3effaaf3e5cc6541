"""Loading and validating the TOML configuration.

Secrets are written as ``${ENV_VAR}`` and read from the environment. Every error
names the key and the fix; ``threadline check-config`` prints them all at once.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError

from bot.settings.core import (
    AgentSettings,
    DemoSettings,
    InboxSettings,
    InstallationSettings,
    LocalSurfaceSettings,
    OutboxSettings,
    Strict,
)
from bot.settings.discord import DiscordSettings
from bot.settings.email import EmailSettings
from bot.settings.email_oauth import secret_key_problem
from bot.settings.ops import OpsSettings
from bot.settings.rules import RulesList, TeamSettings, TemplateSettings, automation_problems
from bot.settings.sla import DigestSettings
from bot.settings.slack import SlackSettings
from bot.settings.web import WebSettings
from bot.settings.whatsapp import WhatsAppSettings

__all__ = ["ChannelsSettings", "ConfigError", "Settings", "SurfacesSettings", "load_config", "parse_config"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SurfacesSettings(Strict):
    """The ``[surfaces]`` section; a surface is enabled by having its section."""

    local: LocalSurfaceSettings | None = None
    discord: DiscordSettings | None = None
    slack: SlackSettings | None = None


class ChannelsSettings(Strict):
    """The ``[channels]`` section."""

    email: EmailSettings | None = None
    whatsapp: WhatsAppSettings | None = None


class Settings(Strict):
    """The whole configuration."""

    threadline: InstallationSettings = Field(default_factory=InstallationSettings)  # type: ignore[arg-type]
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)  # type: ignore[arg-type]
    surfaces: SurfacesSettings = Field(default_factory=SurfacesSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    inboxes: dict[str, InboxSettings]
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    demo: DemoSettings = Field(default_factory=DemoSettings)  # type: ignore[arg-type]
    digests: dict[str, DigestSettings] = Field(default_factory=dict)
    web: WebSettings = Field(default_factory=WebSettings)  # type: ignore[arg-type]
    rules: RulesList = Field(default_factory=list)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    templates: dict[str, TemplateSettings] = Field(default_factory=dict)  # canned replies
    ops: OpsSettings = Field(default_factory=OpsSettings)  # type: ignore[arg-type]

    def inbox(self, name: str) -> InboxSettings:
        """The inbox called ``name`` (KeyError if unknown)."""
        return self.inboxes[name]

    def inbox_display(self, name: str) -> str:
        """The inbox's display name."""
        return self.inboxes[name].name or name


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists ``key: what is wrong; the fix`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _interpolate(value: Any, path: str, env: dict[str, str], problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else k, env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", env, problems) for i, v in enumerate(value)]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(
                    f"{path}: environment variable {name} is not set; export {name}=… before starting "
                    f"Threadline (secrets never go into the file)"
                )
                return ""
            return env[name]

        return _ENV.sub(substitute, value)
    return value


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that the location ``loc`` points into, for spelling suggestions."""
    current: Any = model
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap(field.annotation)
        if get_origin(current) is dict:
            if not parts:
                return None
            parts.pop(0)
            current = _unwrap(get_args(current)[1])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "rule_invalid":  # the message names each rule
        return str(error["msg"])
    if kind == "extra_forbidden":
        parent = _model_at(Settings, loc[:-1])
        known = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known) or 'none'}"
        return f"{key}: unknown key; {hint} Remove it or fix the spelling."
    if kind == "missing":
        return f"{key}: required key is missing; add it (see config.example.toml)"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{key}: {error['input']!r} is not allowed; use one of {expected}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message} (got {error.get('input')!r})"


def _cross_check(settings: Settings) -> list[str]:
    problems: list[str] = []
    surfaces = {
        name for name in SurfacesSettings.model_fields if getattr(settings.surfaces, name) is not None
    }
    channels = {
        name for name in ChannelsSettings.model_fields if getattr(settings.channels, name) is not None
    }
    if settings.demo.whatsapp_outbox_file:
        channels.add("whatsapp")
    for name, inbox in settings.inboxes.items():
        if inbox.surface not in surfaces:
            problems.append(
                f"inboxes.{name}.surface: surface '{inbox.surface}' is not configured; "
                f"add a [surfaces.{inbox.surface}] section or use one of: "
                f"{', '.join(sorted(surfaces)) or 'none'}"
            )
        if inbox.channel not in channels:
            problems.append(
                f"inboxes.{name}.channel: channel '{inbox.channel}' is not configured; "
                f"add a [channels.{inbox.channel}] section"
            )
    email = settings.channels.email
    if email is not None:
        for box_name, box in email.mailboxes.items():
            if box.inbox not in settings.inboxes:
                problems.append(
                    f"channels.email.mailboxes.{box_name}.inbox: no inbox '{box.inbox}'; "
                    f"use one of: {', '.join(sorted(settings.inboxes))}"
                )
    whatsapp = settings.channels.whatsapp
    if whatsapp is not None and whatsapp.inbox not in settings.inboxes:
        problems.append(
            f"channels.whatsapp.inbox: no inbox '{whatsapp.inbox}'; "
            f"use one of: {', '.join(sorted(settings.inboxes))}"
        )
    problems += automation_problems(
        settings.rules, settings.teams, settings.templates, settings.inboxes, settings.agents
    )
    if not settings.inboxes:
        problems.append("inboxes: no inbox is configured; add an [inboxes.support] section")
    return problems


def parse_config(text: str, env: dict[str, str] | None = None) -> Settings:
    """Parse and validate TOML text; raise ConfigError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"(file): not valid TOML: {exc}; fix the syntax at that line"]) from None
    problems: list[str] = []
    data = _interpolate(raw, "", dict(os.environ) if env is None else env, problems)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems + [_describe(e) for e in exc.errors()]) from None
    problems += _cross_check(settings)
    email = settings.channels.email
    uses_oauth = email is not None and bool(email.oauth_mailboxes())
    if uses_oauth and (key_problem := secret_key_problem(dict(os.environ) if env is None else env)):
        problems.append(key_problem)
    if problems:
        raise ConfigError(problems)
    return settings


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Settings:
    """Read and validate the configuration file at ``path``."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError([f"(file): {file} does not exist; copy config.example.toml there or pass --config"])
    return parse_config(file.read_text(encoding="utf-8"), env)
