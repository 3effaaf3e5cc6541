"""Agents replying from outside the instances: another process's core handles the replies they type."""

from __future__ import annotations

from pathlib import Path

from bot.clock import SystemClock
from bot.commands import Actor, CommandService, Location
from storage import Store
from threadline.config import load_config

__all__ = ["reply_to_all"]


async def reply_to_all(config: Path, url: str, texts: dict[int, str]) -> None:
    """Agent replies typed by Alice, written by a separate process's core (as a Slack event would be)."""
    settings = load_config(config)
    store = Store(url)
    try:
        service = CommandService(store, settings, SystemClock(), lambda: None)
        for number, body in texts.items():
            reply = await service.handle(
                Actor("local", "alice", "Alice Martin"), f"!reply {body}", Location("local", number=number)
            )
            assert reply.ok, reply.text
    finally:
        await store.close()
