"""Wiring of model-drafted hand-over summaries: ``[summary] llm = true`` → a ``HandoverService``.

The key is read from the environment variable ``[summary] key_env`` names (never from the
TOML file); ``threadline check-config`` reports a missing one (``AppSettings.environment_problems``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from adapters.llm import ChatCompletionsDrafter
from bot.clock import Clock
from bot.config import Settings
from bot.handover import HandoverService
from storage import Store

__all__ = ["build_handover", "key_problem"]


def key_problem(settings: Settings, env: Mapping[str, str]) -> str | None:
    """Why the model's key cannot be read, or None."""
    summary = settings.summary
    if summary.llm and summary.key_env and not env.get(summary.key_env):
        return (
            f"summary.key_env: the environment variable {summary.key_env} is not set; "
            'export it with the model endpoint\'s key, or set key_env = "" for an endpoint without one'
        )
    return None


def build_handover(
    store: Store,
    settings: Settings,
    clock: Clock,
    notify: Callable[[], None],
    env: Mapping[str, str] | None = None,
) -> HandoverService | None:
    """The service posting model-drafted summaries, or None when ``[summary] llm`` is off."""
    summary = settings.summary
    if not summary.llm:
        return None
    key = (env if env is not None else os.environ).get(summary.key_env) if summary.key_env else None
    drafter = ChatCompletionsDrafter(summary.base_url, summary.model, key, summary.timeout_seconds)
    return HandoverService(store, settings, clock, notify, drafter)
