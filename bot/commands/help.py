"""Help text for the command grammar, the same on every surface."""

from __future__ import annotations

from bot.commands.grammar import COMMANDS

__all__ = ["help_text"]


def help_text(topic: str | None, prefix: str) -> str:
    """All commands with a line each, or one command's usage."""
    if topic:
        usage, description = COMMANDS[topic]
        return f"{prefix}{usage} — {description}"
    lines = [f"{prefix}{usage} — {description}" for usage, description in COMMANDS.values()]
    lines.append(
        "A plain message in a thread is an internal note; replying to the customer is always explicit."
    )
    return "\n".join(lines)
