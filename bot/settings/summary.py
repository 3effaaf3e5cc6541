"""The ``[summary]`` section: the hand-over summary posted on ``!summary`` and (``on_claim``) on claim/assign.

``on_claim`` is off by default so that existing installations' threads do not change on upgrade.

Deterministic by default. With ``llm = true`` a language model behind an OpenAI-compatible
``/v1/chat/completions`` endpoint drafts it (``base_url``, ``model``; the key is read from the
environment variable ``key_env`` names) and may propose a reply draft, which reaches the
customer only when an agent types ``draft send``. On any model error the deterministic summary
is posted instead.
"""

from __future__ import annotations

from pydantic import model_validator

from bot.settings.core import Strict

__all__ = ["SummarySettings"]


class SummarySettings(Strict):
    """How hand-over summaries are made."""

    on_claim: bool = False  # also post one whenever a conversation is claimed or assigned
    llm: bool = False
    base_url: str = ""  # e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1
    model: str = ""
    key_env: str = ""  # the environment variable holding the key; "" sends none (a local server)
    timeout_seconds: float = 20.0
    draft_reply: bool = True  # with llm: also propose a reply, shown to agents, sent only on `draft send`

    @model_validator(mode="after")
    def _llm_needs_an_endpoint(self) -> SummarySettings:
        if self.llm and not self.base_url:
            raise ValueError(
                'base_url: llm = true needs the endpoint, e.g. base_url = "http://127.0.0.1:8000/v1"'
            )
        if self.llm and not self.model:
            raise ValueError('model: llm = true needs the model name, e.g. model = "gpt-4o-mini"')
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds: must be more than 0")
        return self
