"""The Slack surface driven directly (no app): a ``SlackSurface`` on the fake Slack, and the card it posts."""

from __future__ import annotations

from typing import Any

from adapters.slack.client import make_client
from adapters.slack.settings import SlackSettings
from adapters.slack.surface import SlackSurface
from testkit.slack.fake import FakeSlack
from testkit.views import card_view

__all__ = ["CARD", "direct_surface"]


CARD = card_view(number=7, customer="Ann", customer_address="ann@example.com", subject="Hello")
"""Card #7: Ann's email "Hello"."""


def direct_surface(fake: FakeSlack, **settings: Any) -> SlackSurface:
    """A ``SlackSurface`` (HTTP mode, the bot token) on ``fake``'s Web API, with ``settings``."""
    config = SlackSettings(
        bot_token="xoxb-test", mode="http", signing_secret="s", api_base_url=fake.url, **settings
    )
    return SlackSurface(make_client(config), config)
