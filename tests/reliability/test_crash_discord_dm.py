"""A Discord DM is not lost when Threadline dies between the gateway event and the journal: a real
``threadline run`` against the fake Discord (its gateway and REST API), on SQLite and PostgreSQL,
killed right after the gateway brought a DM, then restarted: on READY it reads the DM channel
after the last stored message and stores the DM exactly once; the journal ends done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testkit.discord.fake import FakeDiscord
from testkit.discord.payloads import GUILD_ID
from testkit.processes.procs import Instance, until
from testkit.processes.state import rows
from testkit.workers import free_port

USER = 610000000000000009

CONFIG = """
[threadline]
database_url = "{db}"
log_level = "info"
log_format = "json"

[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)

[web]
host = "127.0.0.1"
port = {port}

[surfaces.discord]
bot_token = "fake-token"
api_base_url = "{api}"
gateway_url = "{gateway}"
guild_ids = [{guild}]
sync_commands = false
dm_inbox = "dms"

[inboxes.dms]
name = "Discord DMs"
channel = "discord"
address = "bot"
surface = "discord"
chat_channel = "{channel}"
"""


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    """The fake Discord: REST API and gateway."""
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def _inbound(db: str) -> list[str]:
    return [str(r[0]) for r in rows(db, "SELECT text FROM messages WHERE kind = 'inbound' ORDER BY id")]


async def _send_dm(fake: FakeDiscord, text: str, instance: Instance) -> None:
    """The user writes to the bot: the DM is in its channel, and the gateway brings MESSAGE_CREATE."""
    await until(lambda: bool(fake.gateway.ready), 60, "the gateway connected", instance)
    assert await fake.gateway.dispatch("MESSAGE_CREATE", fake.dms.user_message(USER, "sofia", text)) == 1


async def test_kill_between_the_gateway_and_the_journal_loses_no_dm(
    process_db: str, discord_api: FakeDiscord, tmp_path: Path
) -> None:
    channel = discord_api.add_text_channel("support")
    config = tmp_path / "discord.toml"
    config.write_text(
        CONFIG.format(
            db=process_db,
            port=free_port(),
            api=discord_api.base_url,
            gateway=discord_api.gateway_url,
            guild=GUILD_ID,
            channel=channel,
        )
    )
    instance = Instance(config, tmp_path, "discord")
    instance.start()
    await _send_dm(discord_api, "My order never arrived", instance)
    await until(lambda: _inbound(process_db), 60, "the first DM stored", instance)
    instance.terminate()
    assert await instance.exited() == 0

    instance.start("discord_dm_received:1")  # dies as the next DM comes in, before it is journaled
    await _send_dm(discord_api, "It was due on Monday", instance)
    assert await instance.exited() == 137
    assert _inbound(process_db) == ["My order never arrived"]

    instance.start()
    await until(lambda: len(_inbound(process_db)) >= 2, 60, "the missed DM caught up", instance)
    assert _inbound(process_db) == ["My order never arrived", "It was due on Monday"]
    instance.terminate()
    assert await instance.exited() == 0
    assert rows(process_db, "SELECT state, count(*) FROM journal GROUP BY state") == [("done", 2)]
    conversations = rows(process_db, "SELECT DISTINCT conversation_id FROM messages WHERE kind = 'inbound'")
    assert len(conversations) == 1  # the caught-up DM continues the user's conversation
