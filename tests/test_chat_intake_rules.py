"""What the intake rules count as a pleasantry (never opens a conversation)."""

from __future__ import annotations

import pytest

from bot.ingest.chat_intake import is_pleasantry
from bot.settings.intake import DEFAULT_PLEASANTRIES


@pytest.mark.parametrize(
    "text", ["thanks!", "Thank you :)", "THX", "ok 👍", "👍", "🙏🙏", ":tada: :raised_hands:", "Got it."]
)
def test_pleasantries(text: str) -> None:
    assert is_pleasantry(text, DEFAULT_PLEASANTRIES)


@pytest.mark.parametrize(
    "text", ["thanks, but the refund never came", "ok so the export fails", "", "   ", "404", "help"]
)
def test_not_pleasantries(text: str) -> None:
    assert not is_pleasantry(text, DEFAULT_PLEASANTRIES)
