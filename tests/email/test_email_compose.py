"""Composing replies: threading headers, subject token, deterministic Message-ID, no header injection."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from adapters.email.compose import MAX_REFERENCES, ReplyComposer, compose_reply, reply_subject
from adapters.email.mime import parse_email
from bot.clock import ManualClock
from bot.views import AttachmentView, OutboundView
from testkit.views import outbound_view


def reparse(msg: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def compose(v: OutboundView, **kwargs: object) -> EmailMessage:
    args: dict[str, Any] = {
        "message_id_domain": "threadline.test",
        "from_format": "{agent} via {inbox_name}",
        "inbox_name": "Support",
        "reply_to": None,
    }
    args.update(kwargs)
    return compose_reply(v, **args)


def test_headers_round_trip() -> None:
    back = reparse(compose(outbound_view()))
    assert back["Message-ID"] == "<tl.01JABCDEF@threadline.test>"
    assert back["In-Reply-To"] == "<second@example.com>"
    assert back["References"] == "<first@example.com> <second@example.com>"
    assert back["Subject"] == "Re: Refund for order 1881 [#42]"
    assert back["From"].addresses[0].display_name == "Bob via Support"
    assert back["From"].addresses[0].addr_spec == "support@threadline.test"
    assert back["To"].addresses[0].addr_spec == "alice@example.com"
    assert back["Auto-Submitted"] is None and back["Date"] is not None
    plain, html_part = back.get_body(("plain",)), back.get_body(("html",))
    assert plain is not None and html_part is not None
    assert plain.get_content().startswith("Hello Alice,")
    html = html_part.get_content()
    assert "<p>Hello Alice,</p>" in html and "Bob</p>" in html


def test_message_id_is_deterministic_and_auto_submitted() -> None:
    first = compose(outbound_view(auto_submitted=True))
    second = compose(outbound_view(auto_submitted=True))
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Auto-Submitted"] == "auto-replied"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Refund", "Re: Refund [#42]"),
        ("Re: Refund [#42]", "Re: Refund [#42]"),
        ("RE: Re: AW: Refund", "Re: Refund [#42]"),
        ("Re: [#7] Refund [#42]", "Re: Refund [#42]"),
        ("", "Re: (no subject) [#42]"),
    ],
)
def test_subject_does_not_stack(subject: str, expected: str) -> None:
    assert reply_subject(subject, 42) == expected


def test_references_are_capped_keeping_the_first() -> None:
    refs = (*(f"<r{i}@example.com>" for i in range(60)), "not-an-id", "<bad\r\nBcc: x@y>")
    back = reparse(compose(outbound_view(thread_refs=refs)))
    ids = str(back["References"]).split()
    assert len(ids) == MAX_REFERENCES and ids[0] == "<r0@example.com>" and ids[-1] == "<r59@example.com>"
    assert back["In-Reply-To"] == "<r59@example.com>"


def test_no_refs_means_no_threading_headers() -> None:
    back = reparse(compose(outbound_view(thread_refs=())))
    assert back["In-Reply-To"] is None and back["References"] is None


def test_header_injection_is_impossible() -> None:
    evil = outbound_view(
        subject="Hello\r\nBcc: evil@x",
        agent_name="Bob\r\nBcc: evil@x",
        to_name="Alice\nBcc: evil@x",
        uid="u1\r\nBcc: evil@x",
    )
    msg = compose(evil, inbox_name="Support\r\nBcc: evil@x")
    raw = msg.as_bytes()
    assert b"\nBcc:" not in raw and b"\rBcc:" not in raw
    back = reparse(msg)
    assert back["Bcc"] is None
    assert back["Subject"] == "Re: Hello Bcc: evil@x [#42]"
    assert "\n" not in str(back["From"]) and "\n" not in str(back["Message-ID"])
    with pytest.raises(ValueError):
        compose(outbound_view(to_address="alice@example.com\r\nBcc: evil@x"))


def test_attachments_and_parse_back() -> None:
    attachments = (
        AttachmentView("report.pdf", "application/pdf", 9, data=b"%PDF-1.4\n"),
        AttachmentView("big.bin", "application/octet-stream", 10**9, data=None, note="too large"),
    )
    msg = compose(outbound_view(attachments=attachments))
    parsed = parse_email(msg.as_bytes(), inbox="support", own_message_id_domains={"threadline.test"})
    assert [(a.filename, a.data) for a in parsed.attachments] == [("report.pdf", b"%PDF-1.4\n")]
    assert parsed.extra.get("own_message") == "true"
    assert parsed.conversation_hint == 42


def test_composer_defaults_to_the_inbox_domain_and_display_name() -> None:
    composer = ReplyComposer(inbox_names={"support": "Acme Support"}, clock=ManualClock())
    msg = composer(outbound_view(agent_name=None))
    assert msg["Message-ID"] == "<tl.01JABCDEF@threadline.test>"
    assert str(msg["From"]) == "Acme Support <support@threadline.test>"
    assert msg["Date"].datetime == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
