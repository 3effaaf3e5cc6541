"""The whole path with real mail servers: a mail APPENDed to Dovecot → card and thread in (fake) Slack →
Claim button, `!label`, `!reply` → the reply reaches a real SMTP server, threaded → the card shows it all."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.ports.inbound import InboundMessage
from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.slack.fake import FakeSlack
from testkit.slack.payloads import block_action, message_event
from testkit.slack.read import all_text, card_fields, literal_text
from testkit.slack.rig import CHANNEL, slack_settings
from testkit.waiting import until
from threadline.app import Threadline
from threadline.config import AppSettings


def _settings(tmp: Path, api_url: str, more: str) -> AppSettings:
    """The Slack rig's settings without written mail (``more``: the mail servers' TOML), polling 50 ms."""
    builder = slack_settings(tmp, api_url).set("outbox", poll_interval_seconds=0.05).drop("channels.email")
    return builder.merge_toml(more).settings()


async def test_mail_in_slack_thread_reply_out_over_smtp(
    tmp_path: Path,
    fake_slack: FakeSlack,
    dovecot: Dovecot,
    smtp: SmtpSink,
) -> None:
    app = Threadline(
        _settings(tmp_path, fake_slack.url, smtp.toml() + dovecot.mailbox_toml()), clock=SystemClock()
    )
    await app.start()
    try:
        mail = EmailMessage()
        mail["From"], mail["To"] = "Ann Customer <ann@example.com>", "support@example.com"
        mail["Subject"], mail["Message-ID"] = "Refund for order 1881", "<ann-1@example.com>"
        mail.set_content("Hello, the desk arrived broken. <!channel>")
        imap = dovecot.client()
        imap.append("INBOX", bytes(mail))
        imap.logout()

        await until("the card", lambda: fake_slack.roots(CHANNEL))
        card = fake_slack.roots(CHANNEL)[-1]
        await until("the first message", lambda: fake_slack.thread(CHANNEL, card["ts"]))
        first = fake_slack.thread(CHANNEL, card["ts"])[0]
        assert first["username"] == "Ann Customer (customer)" and "<!channel>" in literal_text(first)

        assert app.slack is not None
        claim = next(e for e in card["blocks"][-1]["elements"] if e["action_id"] == "tl_claim")
        await app.slack.app.async_dispatch(
            block_action({**claim, "block_id": card["blocks"][-1]["block_id"]}, card=card)
        )
        await app.slack.app.async_dispatch(message_event("!label +refund", thread_ts=card["ts"]))
        await app.slack.app.async_dispatch(
            message_event("!reply Thanks, a new desk ships today.", thread_ts=card["ts"])
        )
        await app.slack.settle()

        await until("the reply at the SMTP server", lambda: smtp.received)
        _sender, rcpt, content = smtp.received[0]
        sent = BytesParser(policy=policy.default).parsebytes(content)
        assert rcpt == ["ann@example.com"]
        assert (
            sent["In-Reply-To"] == "<ann-1@example.com>"
            and sent["Subject"] == "Re: Refund for order 1881 [#1]"
        )
        body = sent.get_body(("plain",))
        assert body is not None and "Thanks, a new desk ships today." in body.get_content()

        def card_now() -> dict[str, str]:
            update = fake_slack.last_update(card["ts"])
            return card_fields(update) if update else {}

        await until(
            "the card to show claim, label and reply",
            lambda: card_now().get("Assignee") == "Alice" and "`refund`" in card_now().get("Labels", ""),
        )
        texts = [m["text"] for m in fake_slack.thread(CHANNEL, card["ts"])]
        await until(
            "the reply's echo",
            lambda: any(
                "a new desk ships today" in m["text"] for m in fake_slack.thread(CHANNEL, card["ts"])
            ),
        )
        assert any("claimed by Alice" in t for t in texts)
    finally:
        await app.stop()


@contextlib.asynccontextmanager
async def conversation_in_slack(
    tmp_path: Path, fake_slack: FakeSlack, smtp: SmtpSink, extra: str = ""
) -> AsyncIterator[tuple[Threadline, dict[str, Any]]]:
    """A running app sending mail through the SMTP sink, and the card of Ann's new conversation."""
    app = Threadline(_settings(tmp_path, fake_slack.url, smtp.toml() + extra), clock=SystemClock())
    await app.start()
    try:
        await app.ingestor.ingest(
            InboundMessage(
                channel="email",
                inbox="support",
                external_id="<ann-2@example.com>",
                sender_address="ann@example.com",
                sender_name="Ann Customer",
                received_at=datetime.now(UTC),
                text="Where is my order?",
                subject="Order",
            )
        )
        await until("the card", lambda: fake_slack.roots(CHANNEL))
        assert app.slack is not None
        yield app, fake_slack.roots(CHANNEL)[-1]
    finally:
        await app.stop()


async def test_a_reply_typed_in_slack_reaches_the_customer_as_typed(
    tmp_path: Path, fake_slack: FakeSlack, smtp: SmtpSink
) -> None:
    async with conversation_in_slack(tmp_path, fake_slack, smtp) as (app, card):
        assert app.slack is not None
        typed = (
            "!reply Fish & chips <https://x.example/?a=1&b=2|here> for <@UBOB>,"
            " <mailto:a@b.example|a@b.example>"
        )
        await app.slack.app.async_dispatch(message_event(typed, thread_ts=card["ts"]))
        await app.slack.settle()
        await until("the reply at the SMTP server", lambda: smtp.received)

        expected = "Fish & chips here (https://x.example/?a=1&b=2) for @Bob, a@b.example"
        sent = BytesParser(policy=policy.default).parsebytes(smtp.received[0][2])
        plain, html = sent.get_body(("plain",)), sent.get_body(("html",))
        assert plain is not None and html is not None
        assert plain.get_content().strip() == expected
        assert "Fish &amp; chips here (https://x.example/?a=1&amp;b=2)" in html.get_content()
        assert "&amp;amp;" not in html.get_content()

        def echoes() -> list[dict]:
            return [m for m in fake_slack.thread(CHANNEL, card["ts"]) if "sent to customer" in all_text(m)]

        await until("the reply's echo", echoes)
        assert literal_text(echoes()[-1]) == expected


async def test_files_attached_to_a_reply_reach_the_customer_and_oversize_ones_are_refused(
    tmp_path: Path, fake_slack: FakeSlack, smtp: SmtpSink
) -> None:
    extra = "\n[channels.email]\nmax_attachment_bytes = 1000\n"
    async with conversation_in_slack(tmp_path, fake_slack, smtp, extra) as (app, card):
        assert app.slack is not None
        invoice = fake_slack.add_file("invoice-1881.pdf", b"%PDF-1.7 invoice", "application/pdf")
        huge = fake_slack.add_file("photos.zip", b"z" * 5000, "application/zip")
        await app.slack.app.async_dispatch(
            message_event("!reply Too big", thread_ts=card["ts"], files=[huge])
        )
        await app.slack.app.async_dispatch(
            message_event("!reply Here it is", thread_ts=card["ts"], files=[invoice])
        )
        await app.slack.settle()
        await until("the reply at the SMTP server", lambda: smtp.received)

        sent = BytesParser(policy=policy.default).parsebytes(smtp.received[0][2])
        (attached,) = list(sent.iter_attachments())
        assert attached.get_filename() == "invoice-1881.pdf"
        assert attached.get_content() == b"%PDF-1.7 invoice"
        assert len(smtp.received) == 1  # the oversize reply was not sent
        refusal = [c.args["text"] for c in fake_slack.called("chat.postEphemeral")]
        expected = "photos.zip is 4.9 KB; email takes at most 1000 bytes per file"
        assert any(expected in t for t in refusal), refusal
