"""Settings of automation and teamwork: rules, teams, canned-reply templates and CSAT.

``[[rules]]`` are evaluated in order on every inbound message. Conditions within one
key are alternatives (any of the listed values), different keys must all hold; a rule
without conditions matches everything. A rule that fails to validate is reported as
``rules[2] (name 'vip'): …`` so the admin knows which one to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator, field_validator
from pydantic_core import PydanticCustomError

from bot.timespec import parse_duration

__all__ = [
    "PLACEHOLDERS",
    "RESERVED_TEMPLATE_NAMES",
    "CsatSettings",
    "RuleSettings",
    "RulesList",
    "TeamSettings",
    "TemplateSettings",
    "automation_problems",
    "placeholders_in",
]

PLACEHOLDERS = (
    "contact.first_name",
    "contact.name",
    "contact.email",
    "contact.phone",
    "agent.name",
    "agent.first_name",
    "conversation.number",
    "conversation.subject",
    "inbox.name",
)
"""The placeholders a canned reply may use, written ``{contact.first_name}``."""

RESERVED_TEMPLATE_NAMES = ("list", "preview", "save")
"""Words of the ``template`` command that cannot be template names."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+\.[A-Za-z_]+)\}")


def placeholders_in(body: str) -> list[str]:
    """The ``{a.b}`` placeholders a template body uses, in order of appearance."""
    return _PLACEHOLDER.findall(body)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateSettings(_Strict):
    """One ``[templates.NAME]`` canned reply; ``body`` may use the placeholders in ``PLACEHOLDERS``."""

    body: str = Field(min_length=1, description="the reply text, e.g. 'Hi {contact.first_name}, …'")
    description: str | None = Field(None, description="shown by `template list`")

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        unknown = [p for p in placeholders_in(value) if p not in PLACEHOLDERS]
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; use one of "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
        return value


class TeamSettings(_Strict):
    """One ``[teams.NAME]`` section: agents (keys under [agents]) that share auto-assigned work."""

    members: list[str] = Field(min_length=1, description="agent keys, in round-robin order")
    strategy: Literal["round_robin", "least_open"] = Field(
        "round_robin", description="round_robin: take turns; least_open: fewest open conversations first"
    )
    max_open_per_agent: int | None = Field(
        None, ge=1, description="an agent with this many open conversations gets no more automatically"
    )


class CsatSettings(_Strict):
    """``[inboxes.NAME.csat]``: after close, ask the customer for a 1–5 rating (one question)."""

    enabled: bool = True
    question: str = Field(
        "How did we do? Reply with a number from 1 (poor) to 5 (excellent).",
        description="the one question sent after close; the customer answers with 1-5",
    )
    thanks: str | None = Field(None, description="optional thank-you sent after a rating")


class RuleSettings(_Strict):
    """One ``[[rules]]`` entry: conditions on the inbound message and actions on its conversation."""

    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    applies_to: Literal["new_conversation", "every_message"] = Field(
        "new_conversation", description="run on a conversation's first message only, or on every one"
    )
    # conditions (keys: all must hold; values of one key: any)
    channel: list[Literal["email", "whatsapp", "discord", "slack"]] = Field(default_factory=list)
    inbox: list[str] = Field(default_factory=list)
    sender: list[str] = Field(default_factory=list, description="exact addresses or phone numbers")
    sender_domain: list[str] = Field(default_factory=list, description="example.com matches sub.example.com")
    subject_contains: list[str] = Field(default_factory=list, description="case-insensitive keywords")
    body_contains: list[str] = Field(default_factory=list, description="case-insensitive keywords")
    text_contains: list[str] = Field(default_factory=list, description="keywords in subject or body")
    subject_regex: str | None = None
    body_regex: str | None = None
    # actions
    add_labels: list[str] = Field(default_factory=list)
    assign: str | None = Field(None, description="an agent key, or team:NAME for auto-assignment")
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    note: str | None = Field(None, description="an internal note posted in the thread")
    auto_reply: str | None = Field(None, description="a template name sent to the customer (never to robots)")
    route_to: str | None = Field(None, description="move a new conversation to this inbox (its chat channel)")
    stop: bool = Field(False, description="when this rule fires, skip the rules after it")

    @field_validator("subject_regex", "body_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    def has_action(self) -> bool:
        """True when the rule does something."""
        return bool(
            self.add_labels or self.assign or self.priority or self.note or self.auto_reply or self.route_to
        )


def _describe_rule_error(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "(rule)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown key; remove it or fix the spelling"
    if error["type"] == "missing":
        return f"{field}: required key is missing"
    return f"{field}: {message}"


def _rules(value: Any, handler: Any) -> list[RuleSettings]:
    """Validate rules one by one so every problem names the rule it belongs to."""
    if not isinstance(value, list):
        raise PydanticCustomError("rule_invalid", "rules: write rules as [[rules]] tables")
    problems: list[str] = []
    rules: list[RuleSettings] = []
    for index, raw in enumerate(value):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"rules[{index}] (name {name!r})" if name else f"rules[{index}]"
        try:
            rule = RuleSettings.model_validate(raw)
        except ValidationError as exc:
            problems += [f"{where}: {_describe_rule_error(e)}" for e in exc.errors()]
            continue
        if not rule.has_action():
            problems.append(
                f"{where}: the rule does nothing; add an action "
                "(add_labels, assign, priority, note, auto_reply or route_to)"
            )
        if rule.route_to and rule.applies_to != "new_conversation":
            problems.append(f'{where}: route_to only works with applies_to = "new_conversation"')
        rules.append(rule)
    names = [r.name for r in rules]
    for index, rule in enumerate(rules):
        if names.index(rule.name) != index:
            problems.append(f"rules[{index}] (name {rule.name!r}): another rule has this name; rename one")
    if problems:
        raise PydanticCustomError("rule_invalid", "{problems}", {"problems": "\n".join(problems)})
    return rules


RulesList = Annotated[list[RuleSettings], WrapValidator(_rules)]
"""The ``rules`` setting: a list validated rule by rule, with errors naming the rule."""


def automation_problems(
    rules: list[RuleSettings],
    teams: Mapping[str, TeamSettings],
    templates: Mapping[str, TemplateSettings],
    inboxes: Mapping[str, Any],
    agents: Mapping[str, Any],
) -> list[str]:
    """Cross-references the settings models cannot check alone: teams, agents, templates, inboxes."""
    problems: list[str] = []
    for name, team in teams.items():
        for member in team.members:
            if member not in agents:
                problems.append(
                    f"teams.{name}.members: no agent '{member}'; add [agents.{member}] or remove it"
                )
    for name in templates:
        if name.lower() in RESERVED_TEMPLATE_NAMES:
            problems.append(f"templates.{name}: '{name}' is a command word; choose another name")
    for index, rule in enumerate(rules):
        where = f"rules[{index}] (name {rule.name!r})"
        for inbox in rule.inbox:
            if inbox not in inboxes:
                problems.append(f"{where}: inbox '{inbox}' does not exist; use one of: {', '.join(inboxes)}")
        if rule.route_to and rule.route_to not in inboxes:
            problems.append(f"{where}: route_to inbox '{rule.route_to}' does not exist")
        if rule.auto_reply and rule.auto_reply not in templates:
            problems.append(f"{where}: auto_reply template '{rule.auto_reply}' is not under [templates]")
        if rule.assign:
            team_name = rule.assign.removeprefix("team:")
            if rule.assign.startswith("team:") and team_name not in teams:
                problems.append(f"{where}: assign team '{team_name}' is not under [teams]")
            elif not rule.assign.startswith("team:") and rule.assign not in agents:
                problems.append(f"{where}: assign agent '{rule.assign}' is not under [agents]")
    for name, inbox in inboxes.items():
        window = getattr(inbox, "collision_window", None)
        if window is not None and parse_duration(window) is None:
            problems.append(
                f"inboxes.{name}.collision_window: '{window}' is not a duration; write 2m (0m: off)"
            )
    return problems
