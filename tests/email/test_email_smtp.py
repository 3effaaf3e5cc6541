"""SmtpSender against a real aiosmtpd server on loopback."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from functools import partial

import pytest

from adapters.email.compose import ReplyComposer
from adapters.email.settings import SmtpSettings
from adapters.email.smtp import SmtpSender
from bot.ports import MemoryParts, PermanentDeliveryError, TransientDeliveryError
from bot.views import OutboundView
from testkit.email.smtp_sink import SmtpSink
from testkit.views import outbound_view
from testkit.workers import free_port

outbound = partial(
    outbound_view,
    uid="u-1",
    conversation_number=7,
    to_name="Alice",
    subject="Where is my parcel?",
    text="It left the warehouse today.",
    thread_refs=("<orig@example.com>",),
)


def sender(port: int, **kwargs: object) -> SmtpSender:
    settings = SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "security": "none", **kwargs})
    return SmtpSender(settings, ReplyComposer(inbox_names={"support": "Support"}))


async def test_message_is_delivered_with_threading_headers(smtp: SmtpSink) -> None:
    port = smtp.port
    message_id = await sender(port).send(outbound())
    assert message_id == "<tl.u-1@threadline.test>"
    ((mail_from, rcpt, content),) = smtp.received
    assert mail_from == "support@threadline.test" and rcpt == ["alice@example.com"]
    back = BytesParser(policy=policy.default).parsebytes(content)
    assert back["Message-ID"] == message_id and back["In-Reply-To"] == "<orig@example.com>"
    assert back["Subject"] == "Re: Where is my parcel? [#7]"
    assert back["From"].addresses[0].display_name == "Bob via Support"


async def test_retry_sends_the_same_message_id(smtp: SmtpSink) -> None:
    port = smtp.port
    assert await sender(port).send(outbound()) == await sender(port).send(outbound())
    ids = {BytesParser(policy=policy.default).parsebytes(c)["Message-ID"] for _, _, c in smtp.received}
    assert ids == {"<tl.u-1@threadline.test>"}


async def test_4xx_is_transient(smtp: SmtpSink) -> None:
    port = smtp.port
    smtp.answer = "451 4.3.0 Try again later"
    with pytest.raises(TransientDeliveryError) as info:
        await sender(port).send(outbound())
    assert "451" in info.value.reason and "Try again later" in info.value.reason
    assert info.value.rate_limited  # the server asks us to wait: counted, shown once if it lasts


async def test_a_mail_recorded_as_sent_is_not_sent_again(smtp: SmtpSink) -> None:
    port = smtp.port
    parts = MemoryParts()
    first = await sender(port).send(outbound(), parts)
    assert parts.parts == {0: first}  # recorded as soon as the server accepted it
    again = await sender(port).send(outbound(), parts)  # the retry after a crash before "done"
    assert again == first and len(smtp.received) == 1


async def test_5xx_is_permanent(smtp: SmtpSink) -> None:
    port = smtp.port
    smtp.answer = "550 5.1.1 No such user"
    with pytest.raises(PermanentDeliveryError) as info:
        await sender(port).send(outbound())
    assert "550" in info.value.reason and "No such user" in info.value.reason


async def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientDeliveryError):
        await sender(free_port(), timeout=2).send(outbound())


async def test_bad_recipient_is_permanent_without_connecting() -> None:
    bad = OutboundView(**{**outbound().__dict__, "to_address": "not an address"})
    with pytest.raises(PermanentDeliveryError):
        await sender(free_port()).send(bad)


class _QuitWatchingSink(SmtpSink):
    """A sink that notes when the server accepted the DATA and when the client said QUIT."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        self.events.append("250 for DATA")
        return answer

    async def handle_QUIT(self, server, session, envelope):
        self.events.append("QUIT")
        return "221 Bye"


class _NotedParts(MemoryParts):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def record(self, part: int, external_id: str) -> None:
        self.events.append("recorded")
        await super().record(part, external_id)


async def test_the_send_is_recorded_before_quit() -> None:
    """The gap between the server's 250 and the send record is as narrow as SMTP allows: no QUIT round
    trip in between (a crash there would send the mail again, with the same Message-ID)."""
    from aiosmtpd.controller import Controller

    events: list[str] = []
    port = free_port()
    controller = Controller(_QuitWatchingSink(events), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await sender(port).send(outbound(), _NotedParts(events))
    finally:
        controller.stop()
    assert events == ["250 for DATA", "recorded", "QUIT"]
