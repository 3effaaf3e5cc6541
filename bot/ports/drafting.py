"""What the core asks of a language model (``[summary] llm = true``): a hand-over summary, a reply draft.

The adapter (``adapters/llm``) speaks an OpenAI-compatible API; any failure is a ``DraftError``,
on which the core posts its deterministic summary instead. A draft reply is only ever shown to
agents: it reaches the customer when an agent types ``draft send``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Draft", "DraftError", "DraftRequest", "Drafter"]


class DraftError(Exception):
    """The model could not draft (unreachable, refused, timed out, or answered nonsense)."""


@dataclass(frozen=True)
class DraftRequest:
    """The conversation as the model sees it: the deterministic summary and the recent messages."""

    summary: str  # the facts, worded by ``bot.handover.text.render``
    transcript: tuple[tuple[str, str], ...]  # (who, text) of the recent messages, oldest first
    want_reply: bool  # also propose a reply to the customer


@dataclass(frozen=True)
class Draft:
    """The model's summary, and its proposed reply when one was asked for (else None)."""

    summary: str
    reply: str | None = None


class Drafter(Protocol):
    """Drafts hand-over summaries (and reply drafts) with a language model."""

    async def draft(self, request: DraftRequest) -> Draft:
        """The draft for ``request``; raises ``DraftError`` when there is none."""
        ...
