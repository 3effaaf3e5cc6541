"""Settings and helpers for the scheduler tests (SLA, digests, reports)."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.ports.inbound import InboundMessage
from threadline.app import Threadline
from threadline.config import AppSettings, parse_config

_ids = itertools.count(1)

CONFIG = """
[outbox]
undo_seconds = 0  # replies leave at once (the undo window has its own tests)

[threadline]
database_url = "{db}"
log_level = "warning"

[surfaces.local]
agent = "alice"

[inboxes.support]
name = "Support"
channel = "email"
address = "support@example.com"
chat_channel = "support"
timezone = "Europe/Amsterdam"
{inbox_extra}

[inboxes.support.sla]
first_response = "1h"
next_response = "2h"
resolution = "2d"
warn_before = "15m"
on_call = "support-oncall"
{sla_extra}

[inboxes.support.business_hours]
holidays = ["2026-01-06"]

[inboxes.sales]
channel = "email"
address = "sales@example.com"
chat_channel = "sales"

[channels.email]
outgoing_dir = "{outdir}"

[agents.alice]
name = "Alice Martin"
identities = {{ local = "alice" }}

[agents.bob]
name = "Bob Stone"
identities = {{ local = "bob" }}

[digests.daily]
chat_channel = "digests"
cron = "0 9 * * mon-fri"
timezone = "Europe/Amsterdam"
inboxes = ["support"]
oldest = 3
"""


def settings_for(db: str, outdir: Path, inbox_extra: str = "", sla_extra: str = "") -> AppSettings:
    """Support inbox with business hours Mon-Fri 09-17 Amsterdam, 6 January a holiday, SLA 1h/2h/2d."""
    text = CONFIG.format(db=db, outdir=outdir, inbox_extra=inbox_extra, sla_extra=sla_extra)
    return parse_config(text, env={})


def mail(text: str = "Hello", *, when: datetime, inbox: str = "support", **fields: Any) -> InboundMessage:
    """A customer email."""
    fields.setdefault("external_id", f"<sla{next(_ids)}@example.org>")
    return InboundMessage(
        channel="email",
        inbox=inbox,
        sender_address=fields.pop("sender", "jane@example.org"),
        sender_name=fields.pop("name", "Jane Doe"),
        received_at=when,
        text=text,
        subject=fields.pop("subject", "Where is my order?"),
        **fields,
    )


async def new_app(settings: AppSettings, clock: ManualClock) -> Threadline:
    """An app with its database ready; the test drives jobs itself (no scheduler, no outbox task)."""
    app = Threadline(settings, clock=clock)
    await app.prepare_database()
    await app.sync_agents()
    return app


def notices(app: Threadline, number: int) -> list[str]:
    """The notices shown in a conversation's local thread."""
    assert app.local is not None
    thread = app.local.thread(number)
    return thread.texts("notice") if thread else []


async def settle(app: Threadline) -> None:
    """After ``app.start()``: wait (bounded) until the missed digests are posted (their build reads
    in a worker thread on SQLite) and the running outbox loop has delivered everything due."""
    import asyncio

    catch_up = [task for task in app._tasks if task.get_name() == "digest-catch-up"]
    await asyncio.wait_for(asyncio.gather(*catch_up), 30)
    for _ in range(1000):
        await app.dispatcher.drain()
        async with app.store.transaction() as repo:
            pending, _age = await repo.outbox.outbox_stats(app.clock.now())
        if pending == 0:
            return
        await asyncio.sleep(0.01)  # a row claimed by the background loop is still on its way
    raise AssertionError("the outbox did not settle")


def ams(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Amsterdam, as UTC."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(
        UTC
    )
