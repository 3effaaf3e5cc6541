"""Two instances re-mirroring one conversation at once (both find its card gone, or both resync it) on
PostgreSQL: the team sees one card and each message once. The re-mirror is claimed under the
conversation's row lock; the second finds the row it wanted to replace already replaced and stops."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.clock import ManualClock
from bot.effects import POST
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.refusing import RefusingSurface
from testkit.servers import reset_postgres
from testkit.settings import make_settings


async def test_two_instances_rebuilding_one_card_show_it_once(
    pg_server: str, tmp_path: Path, clock: ManualClock
) -> None:
    from storage.migrate import upgrade

    reset_postgres(pg_server)
    await upgrade(pg_server)
    settings = make_settings(pg_server, tmp_path / "out")
    first, second = await started_app(settings, clock), await started_app(settings, clock)
    surface = RefusingSurface()
    surface.commands = first.commands  # built before the app it types into
    first.surfaces["local"] = second.surfaces["local"] = surface
    try:
        refs = ("<root@example.org>",)
        await first.ingestor.ingest(email_in(text="root", external_id=refs[0], when=clock.now()))
        for text in ("one", "two"):
            await first.ingestor.ingest(email_in(text=text, thread_refs=refs, when=clock.now()))
        await first.dispatcher.drain()
        surface.threads.clear()  # the card was deleted on the platform
        await first.ingestor.ingest(email_in(text="three", thread_refs=refs, when=clock.now()))
        async with first.store.transaction() as uow:
            (conversation,) = await uow.repairs.conversations_for_resync(None)
            rows = await uow.repairs.mirror_rows(conversation.id, "surface:local")
        (waiting,) = [r for r in rows if r.kind == POST and r.status == "pending"]
        # both instances claimed a row of it and both were told the thread is gone
        await asyncio.gather(
            first.repairs.rebuild(waiting, "local"), second.repairs.rebuild(waiting, "local")
        )
        await asyncio.gather(first.dispatcher.drain(), second.dispatcher.drain())
        await first.dispatcher.drain()
        thread = surface.thread(conversation.number)
        assert thread is not None
        assert thread.texts("inbound") == ["root", "one", "two", "three"]
        assert len(surface.threads) == 1  # one card
    finally:
        await first.stop()
        await second.stop()
