"""An ``ImapWorker`` on a real Dovecot, running for a ``with`` block, and mail appended there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial

from adapters.email.classify import is_own_message
from adapters.email.imap import ImapWorker
from adapters.email.mime import parse_email
from adapters.email.settings import MailboxSettings
from bot.ports.progress import ProgressCallback

__all__ = ["aappend", "append", "imap_settings", "running"]


def imap_settings(server, **overrides: object) -> MailboxSettings:
    values: dict[str, object] = {
        "inbox": "support",
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": "support",
        "password": "secret",
        "idle_renew_seconds": 30,
        "poll_interval_seconds": 0.3,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return MailboxSettings.model_validate(values)


@contextlib.asynccontextmanager
async def running(
    server, recorder, batch_size: int = 50, progress: ProgressCallback | None = None, **overrides: object
) -> AsyncIterator[ImapWorker]:
    worker = ImapWorker(
        imap_settings(server, **overrides),
        "support",
        recorder.ingest,
        recorder.load_cursor,
        partial(parse_email, inbox="support", own_message_id_domains={"threadline.test"}),
        save_cursor=recorder.save_cursor,
        is_own=partial(is_own_message, own_message_id_domains={"threadline.test"}),
        batch_size=batch_size,
        backoff_initial=0.05,
        backoff_max=0.5,
        progress=progress,
    )
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(asyncio.to_thread(worker.connected.wait, 10), 11)
        assert worker.connected.is_set(), "worker did not connect"
        yield worker
    finally:
        await asyncio.wait_for(worker.stop(), 10)
        await asyncio.wait_for(task, 5)


def append(server, *raws: bytes, folder: str = "INBOX") -> None:
    client = server.client()
    try:
        for raw in raws:
            client.append(folder, raw)
    finally:
        client.logout()


async def aappend(server, *raws: bytes, folder: str = "INBOX") -> None:
    await asyncio.to_thread(append, server, *raws, folder=folder)
