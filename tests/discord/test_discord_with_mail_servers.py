"""The whole path with real mail servers: a mail APPENDed to Dovecot → thread and card in (fake) Discord →
/claim, /label add:refund, /reply → the reply reaches a real SMTP server, threaded → the card shows it."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from bot.clock import ManualClock
from testkit.discord.fake import FakeDiscord
from testkit.discord.rig import DiscordRig, RecordingSender, discord_settings
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.waiting import until
from threadline.app import Threadline


async def test_mail_in_discord_thread_reply_out_over_smtp(
    tmp_path: Path, fake: FakeDiscord, dovecot: Dovecot, smtp: SmtpSink
) -> None:
    channel = fake.add_text_channel("support")
    builder = discord_settings(fake, tmp_path, channel).drop("channels.email")
    settings = builder.merge_toml(smtp.toml() + dovecot.mailbox_toml()).settings()
    clock = ManualClock()
    app = Threadline(settings, clock=clock)
    await app.prepare_database()
    await app.sync_agents()
    assert app.discord is not None
    await app.discord.login()
    assert app.email is not None
    await app.email.start(app.run_ports)
    harness = DiscordRig.around(app, clock, fake, RecordingSender(), channel)
    try:
        mail = EmailMessage()
        mail["From"], mail["To"] = "Jane Doe <jane@example.org>", "support@example.com"
        mail["Subject"], mail["Message-ID"] = "Refund for order 1881", "<jane-1@example.org>"
        mail.set_content("The desk arrived broken. @everyone")
        imap = dovecot.client()
        imap.append("INBOX", bytes(mail))
        imap.logout()

        await until("the thread", lambda: fake.threads(), between=app.dispatcher.drain)
        thread = harness.thread_id()
        await until(
            "the customer's message", lambda: len(fake.posts(thread)) >= 2, between=app.dispatcher.drain
        )
        first = fake.posts(thread)[1]
        assert first["embeds"][0]["author"]["name"].startswith("Jane Doe")
        assert first["allowed_mentions"] == {"parse": []}

        await harness.command("claim", thread)
        await harness.command("label", thread, add="refund")
        await harness.command("reply", thread, text="Sorry! A new desk ships today.")
        await until("the reply at the SMTP server", lambda: smtp.received, between=app.dispatcher.drain)
        _sender, rcpt, content = smtp.received[0]
        sent = BytesParser(policy=policy.default).parsebytes(content)
        assert rcpt == ["jane@example.org"]
        assert (
            sent["In-Reply-To"] == "<jane-1@example.org>"
            and sent["Subject"] == "Re: Refund for order 1881 [#1]"
        )

        def card_text() -> str:
            return str(harness.card(thread)["embeds"][0])

        await until(
            "the card to show the claim and the label",
            lambda: "Alice Martin" in card_text() and "refund" in card_text(),
            between=app.dispatcher.drain,
        )
    finally:
        await app.stop()
