"""Refusals told in chat (core), on SQLite and PostgreSQL: a mailbox whose sign-in is refused is told in its
inbox's chat channel even before the inbox has any conversation; a refused chat channel is told once in
another channel, also when two instances meet the refusal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.ports import SurfaceRefused
from testkit.app import started_app
from testkit.inbound import email_in
from testkit.refusing import RefusingSurface
from testkit.settings import make_settings


async def test_a_refused_sign_in_is_told_in_a_brand_new_inbox(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    from storage.migrate import upgrade

    await upgrade(db_url)
    app = await started_app(make_settings(db_url, tmp_path / "out"), clock)
    try:
        local = app.local
        assert local is not None
        reason = (
            "mailbox support: the server refused the sign-in ([AUTHENTICATIONFAILED]); check the password"
        )
        posted = await app.ops.outages.component_down(
            "mailbox:support", "support", "the support@example.com mailbox (IMAP)", reason, sign_in=True
        )
        await app.dispatcher.drain()
        assert posted
        assert [(channel, post.text) for channel, post, _ in local.channel_posts] == [
            ("support", local.channel_posts[0][1].text)
        ]
        assert "refused the sign-in" in local.channel_posts[0][1].text
        await app.ops.outages.component_up("mailbox:support", "support", "the support mailbox", timedelta(0))
        await app.dispatcher.drain()
        assert len(local.channel_posts) == 2 and "reachable again" in local.channel_posts[1][1].text
    finally:
        await app.stop()


async def test_two_instances_meeting_one_refusal_tell_it_once(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    from storage.migrate import upgrade

    await upgrade(db_url)
    settings = make_settings(db_url, tmp_path / "out")
    first = await started_app(settings, clock)
    second = await started_app(settings, clock)
    first.repairs.notices.once.holder, second.repairs.notices.once.holder = "one", "two"
    surface = RefusingSurface()  # refuses the support channel's threads; the wa channel takes notices
    surface.commands = first.commands  # built before the app it types into
    first.surfaces["local"] = second.surfaces["local"] = surface
    try:
        surface.refusing = "channel"
        await first.ingestor.ingest(email_in("ann@example.com", "Parcel", "where is it?", when=clock.now()))
        await first.dispatcher.drain()
        await second.ingestor.ingest(email_in("bo@example.com", "Invoice", "wrong amount", when=clock.now()))
        await second.dispatcher.drain()  # reads the stored broken scope: parks, says nothing
        await first.dispatcher.drain()
        reason = "the bot is not in the channel; /invite @Threadline (not_in_channel)"
        async with second.store.transaction() as uow:  # the first instance told it: the second may not
            assert not await second.repairs.notices.refused(uow, "local", "support", reason)
        await second.dispatcher.drain()
        told = [post.text for channel, post, _ in surface.channel_posts if channel == "wa"]
        assert len(told) == 1, told
        assert "channel support" in told[0] and "not_in_channel" in told[0] and "/invite" in told[0]

        surface.refusing = None
        await second.repairs.probe_all()  # the second instance heals it: it tells, once
        await first.repairs.probe_all()
        await first.dispatcher.drain()
        await second.dispatcher.drain()
        told = [post.text for channel, post, _ in surface.channel_posts if channel == "wa"]
        assert len(told) == 2 and "works again" in told[1] and "2 conversations" in told[1], told
        assert surface.thread(1) is not None and surface.thread(2) is not None
        # the first instance gave its lease up: a new refusal of the channel is told again
        async with first.store.transaction() as uow:
            assert await first.repairs.notices.refused(uow, "local", "support", reason)
    finally:
        await first.stop()
        await second.stop()


class _RefusingSupportChannel(RefusingSurface):
    """Refuses only the support inbox's chat channel (the bot was never invited there)."""

    def _gate(self) -> None:
        self.platform_calls += 1

    async def probe(self, scope: str) -> None:
        if self.refusing and scope == "support":
            raise SurfaceRefused("the bot is not in the channel; /invite @Threadline (not_in_channel)")


async def test_a_refusal_found_by_the_check_at_start_is_told_once_and_its_healing_too(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    from storage.migrate import upgrade

    await upgrade(db_url)
    app = await started_app(make_settings(db_url, tmp_path / "out"), clock)
    surface = _RefusingSupportChannel()
    surface.commands = app.commands
    app.surfaces["local"] = surface
    surface.refusing = "channel"
    try:
        await app.repairs.check_at_start()  # no delivery was refused yet: the check found it
        await app.repairs.check_at_start()  # checked again (a second start): not told twice
        await app.dispatcher.drain()
        told = [(channel, post.text) for channel, post, _ in surface.channel_posts]
        assert len(told) == 1, told
        assert told[0][0] == "wa" and "channel support" in told[0][1] and "/invite" in told[0][1]
        assert app.repairs.report()["channels"]["local:support"].startswith("broken")

        surface.refusing = None
        await app.repairs.probe_all()
        await app.repairs.probe_all()
        await app.dispatcher.drain()
        told = [(channel, post.text) for channel, post, _ in surface.channel_posts]
        assert len(told) == 2, told
        assert told[1][0] == "wa" and "channel support works again" in told[1][1]
        assert app.repairs.report()["channels"]["local:support"] == "ok"
    finally:
        await app.stop()
