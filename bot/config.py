"""The core's settings and the loading and validating of a TOML configuration.

Secrets are written as ``${ENV_VAR}`` and read from the environment. Every error
names the key and the fix; ``threadline check-config`` prints them all at once.
``Settings`` holds the sections the core reads; the composition root extends it with
the sections of the configured adapters (``threadline.config.AppSettings``).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from bot.ports.channels import ChannelRules
from bot.settings.channel import ApprovedTemplate
from bot.settings.core import (
    AgentSettings,
    DemoSettings,
    InboxSettings,
    InstallationSettings,
    OutboxSettings,
    Strict,
)
from bot.settings.intake import IntakeSettings
from bot.settings.ops import OpsSettings
from bot.settings.reactions import ReactionsSettings
from bot.settings.rules import RulesList, TeamSettings, TemplateSettings, automation_problems
from bot.settings.sla import DigestSettings
from bot.settings.source import key_path, line_of, literal_secrets
from bot.settings.summary import SummarySettings
from bot.settings.web import WebSettings

__all__ = ["ConfigError", "Settings", "literal_secret_warnings", "load_settings", "parse_settings"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Settings(Strict):
    """The sections of the configuration that the core reads."""

    threadline: InstallationSettings = Field(default_factory=InstallationSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    inboxes: dict[str, InboxSettings]
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    digests: dict[str, DigestSettings] = Field(default_factory=dict)
    web: WebSettings = Field(default_factory=WebSettings)
    rules: RulesList = Field(default_factory=list)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    templates: dict[str, TemplateSettings] = Field(default_factory=dict)  # canned replies
    ops: OpsSettings = Field(default_factory=OpsSettings)
    reactions: ReactionsSettings = Field(default_factory=ReactionsSettings)
    summary: SummarySettings = Field(default_factory=SummarySettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)  # chat-native intake rules

    def inbox(self, name: str) -> InboxSettings:
        """The inbox called ``name`` (KeyError if unknown)."""
        return self.inboxes[name]

    def inbox_display(self, name: str) -> str:
        """The inbox's display name."""
        return self.inboxes[name].name or name

    def surface_names(self) -> set[str]:
        """The surfaces that are configured (the core's own local surface, when it has a section)."""
        return set()

    def channel_names(self) -> set[str]:
        """The channels that are configured."""
        return set()

    def approved_templates(self, channel: str) -> dict[str, ApprovedTemplate]:
        """The message templates the provider of ``channel`` approved (empty for channels without)."""
        return {}

    def channel_rules(self, channel: str) -> ChannelRules:
        """The rules the adapter of ``channel`` declares (generic ones when it declares none)."""
        return ChannelRules.generic(channel)

    def destination_label(self, destination: str) -> str:
        """An outbox destination (``channel:x``, ``surface:x``) as the team reads it in a notice."""
        kind, _, name = destination.partition(":")
        return self.channel_rules(name).label if kind == "channel" else destination

    def environment_problems(self, env: Mapping[str, str]) -> list[str]:
        """Problems with environment variables the configuration needs beyond its ``${ENV}`` references."""
        return []

    def problems(self) -> list[str]:
        """Problems across sections (an inbox naming an unknown surface…), as ``key: problem; fix``."""
        problems: list[str] = []
        surfaces, channels = self.surface_names(), self.channel_names()
        for name, inbox in self.inboxes.items():
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
        known = ", ".join(sorted(self.inboxes)) or "none"
        for name, digest in self.digests.items():
            if digest.surface not in surfaces:
                problems.append(
                    f"digests.{name}.surface: surface '{digest.surface}' is not configured; "
                    f"add a [surfaces.{digest.surface}] section or use one of: "
                    f"{', '.join(sorted(surfaces)) or 'none'}"
                )
            for index, inbox_name in enumerate(digest.inboxes):
                if inbox_name not in self.inboxes:
                    problems.append(
                        f"digests.{name}.inboxes[{index}]: no inbox '{inbox_name}'; use one of: {known}"
                    )
        problems += automation_problems(self.rules, self.teams, self.templates, self.inboxes, self.agents)
        if not self.inboxes:
            problems.append("inboxes: no inbox is configured; add an [inboxes.support] section")
        return problems


S = TypeVar("S", bound=Settings)


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


def _describe(error: Any, model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "rule_invalid":  # the message names each rule
        return str(error["msg"])
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
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
    return f"{key}: {message}{_shown_input(error['input'], loc, model)}"


def _shown_input(value: Any, loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    """What was given, for the error message: never a whole section (it may hold secrets), never a secret."""
    if isinstance(value, dict | list) or _is_secret_key(loc, model):
        return ""
    return f" (got {value!r})"


def _is_secret_key(loc: tuple[Any, ...], model: type[BaseModel]) -> bool:
    """Whether the setting at ``loc`` holds a secret (declared with ``repr=False``): never shown anywhere."""
    if not loc:
        return False
    parent = _model_at(model, loc[:-1])
    field = parent.model_fields.get(str(loc[-1])) if parent else None
    return field is not None and field.repr is False


def _as_far_as_valid(annotation: Any, raw: Any) -> Any:
    """``raw`` validated as ``annotation`` where it can be, part by part; what cannot stays as given.

    After a validation error this still lets the cross-checks see every inbox, surface and
    digest that was written, so one run reports every mistake.
    """
    try:
        return TypeAdapter(annotation).validate_python(raw)
    except ValidationError:
        pass
    kind = _unwrap(annotation)
    if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(raw, dict):
        fields = kind.model_fields
        known = {key: value for key, value in raw.items() if key in fields}
        return kind.model_construct(
            **{key: _as_far_as_valid(fields[key].annotation, v) for key, v in known.items()}
        )
    if get_origin(kind) is dict and isinstance(raw, dict):
        return {key: _as_far_as_valid(get_args(kind)[1], value) for key, value in raw.items()}
    if get_origin(kind) is list and isinstance(raw, list):
        return [_as_far_as_valid(get_args(kind)[0], value) for value in raw]
    return raw


def _after_errors(
    data: dict[str, Any], model: type[Settings], reported: list[str], env: Mapping[str, str]
) -> list[str]:
    """Cross-section and environment problems worth adding to validation errors: none about a key
    already reported."""
    partial = _as_far_as_valid(model, data)
    if not isinstance(partial, model):
        return []
    found: list[str] = []
    for check in (partial.problems, lambda: partial.environment_problems(env)):
        try:
            found += check()
        except (AttributeError, TypeError, KeyError, ValueError):  # a section as given was too broken
            continue
    keys = {key_path(problem) for problem in reported}
    return [problem for problem in found if key_path(problem) not in keys]


def _located(problems: list[str], text: str) -> list[str]:
    """Each problem with the line of the file it is about, where that key or its table is written."""
    located = []
    for problem in problems:
        line = line_of(text, key_path(problem))
        located.append(f"{problem} (line {line})" if line is not None else problem)
    return located


def parse_settings(text: str, model: type[S], env: dict[str, str] | None = None) -> S:
    """Parse and validate TOML text as ``model``; raise ConfigError listing every problem and its line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"(file): not valid TOML: {exc}; fix the syntax at that line"]) from None
    problems: list[str] = []
    environ = dict(os.environ) if env is None else env
    data = _interpolate(raw, "", environ, problems)
    try:
        settings = model.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(e, model) for e in exc.errors()]
        problems += _after_errors(data, model, problems, environ)
        raise ConfigError(_located(problems, text)) from None
    problems += settings.problems()
    problems += settings.environment_problems(environ)
    if problems:
        raise ConfigError(_located(problems, text))
    return settings


def literal_secret_warnings(text: str, model: type[Settings]) -> list[str]:
    """What ``model`` allows but is unwise in valid TOML text: secrets written in instead of ``${ENV}``."""
    return _located(literal_secrets(tomllib.loads(text), lambda loc: _is_secret_key(loc, model)), text)


def load_settings(path: str | Path, model: type[S], env: dict[str, str] | None = None) -> S:
    """Read and validate the configuration file at ``path`` as ``model``."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError([f"(file): {file} does not exist; copy config.example.toml there or pass --config"])
    return parse_settings(file.read_text(encoding="utf-8"), model, env)
