"""``[summary]`` and ``[reactions]`` settings: errors name the key and the fix."""

from __future__ import annotations

import pytest

from bot.config import ConfigError
from threadline.config import parse_config

BASE = """
[threadline]
database_url = "sqlite:///:memory:"
[surfaces.local]
[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "local"
chat_channel = "support"
[channels.email]
outgoing_dir = "/tmp/tl-out"
"""


def test_llm_needs_an_endpoint_a_model_and_its_key() -> None:
    with pytest.raises(ConfigError, match="base_url: llm = true needs the endpoint"):
        parse_config(BASE + "[summary]\nllm = true\nmodel = 'm'\n", env={})
    with pytest.raises(ConfigError, match="environment variable LLM_KEY is not set"):
        parse_config(
            BASE + "[summary]\nllm = true\nmodel = 'm'\nbase_url = 'http://x/v1'\nkey_env = 'LLM_KEY'\n",
            env={},
        )
    settings = parse_config(
        BASE + "[summary]\nllm = true\nmodel = 'm'\nbase_url = 'http://x/v1'\nkey_env = 'LLM_KEY'\n",
        env={"LLM_KEY": "k"},
    )
    assert settings.summary.llm and not settings.summary.on_claim


def test_reactions_map_only_conversation_commands_and_a_known_removal() -> None:
    with pytest.raises(ConfigError, match="a reaction runs one of claim"):
        parse_config(BASE + "[reactions]\nmap = { '📨' = 'reply hello' }\n", env={})
    with pytest.raises(ConfigError, match='use "ignore"'):
        parse_config(BASE + "[reactions]\non_removal = 'sometimes'\n", env={})
    settings = parse_config(BASE + "[reactions.discord]\nmap = { '👍️' = 'label +liked' }\n", env={})
    assert settings.reactions.for_surface("discord").map == {"👍": "label +liked"}
    assert settings.reactions.for_surface("slack").map["👀"] == "claim"
