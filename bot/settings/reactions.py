"""The ``[reactions]`` section: which emoji reaction on a conversation's thread runs which command.

A shared ``[reactions]`` table applies to every surface; ``[reactions.slack]`` or
``[reactions.discord]`` replace its map (and removal behaviour) for one surface. Emoji are
written as the character (``"👀"``) or as a ``:short_name:`` (a custom emoji, or one a surface
has no character for); each command is a line of the command grammar without the prefix.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.settings.core import Strict

__all__ = ["DEFAULT_REACTIONS", "REACTION_COMMANDS", "ReactionSettings", "ReactionsSettings", "emoji_key"]

DEFAULT_REACTIONS: dict[str, str] = {"👀": "claim", "✅": "close", "🚨": "priority urgent", "🔁": "reopen"}
"""The default map: 👀 claim, ✅ close, 🚨 priority urgent, 🔁 reopen."""

REACTION_COMMANDS = ("claim", "unassign", "close", "reopen", "priority", "label", "snooze", "summary")
"""The commands a reaction may run: ones that act on the conversation and need no text typed."""

_VARIATION = "\ufe0f"


def emoji_key(emoji: str) -> str:
    """The form emoji are compared in: without variation selectors, a ``:short_name:`` lowercased."""
    text = emoji.strip().replace(_VARIATION, "")
    return text.lower() if text.startswith(":") and text.endswith(":") else text


class ReactionSettings(Strict):
    """One surface's reactions: the emoji → command map and what removing a reaction does."""

    map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REACTIONS))
    on_removal: str = "ignore"  # "ignore" | "undo": unclaim, reopen, priority normal, labels back

    @field_validator("map")
    @classmethod
    def _known_commands(cls, value: dict[str, str]) -> dict[str, str]:
        for emoji, command in value.items():
            word = command.split(maxsplit=1)[0].lower() if command.strip() else ""
            if word not in REACTION_COMMANDS:
                raise ValueError(
                    f"'{emoji}' = '{command}': a reaction runs one of {', '.join(REACTION_COMMANDS)} "
                    '(e.g. "priority urgent", "label +refund")'
                )
        return {emoji_key(emoji): command.strip() for emoji, command in value.items()}

    @field_validator("on_removal")
    @classmethod
    def _known_removal(cls, value: str) -> str:
        if value not in ("ignore", "undo"):
            raise ValueError('use "ignore" (the default) or "undo"')
        return value


class ReactionsSettings(ReactionSettings):
    """The shared ``[reactions]`` table, with optional per-surface replacements."""

    enabled: bool = True
    slack: ReactionSettings | None = None
    discord: ReactionSettings | None = None

    def for_surface(self, surface: str) -> ReactionSettings:
        """The reactions of ``surface``: its own table when configured, else the shared one."""
        own = {"slack": self.slack, "discord": self.discord}.get(surface)
        return own if own is not None else self
