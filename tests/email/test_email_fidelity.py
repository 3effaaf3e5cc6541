"""Real-world-shaped mail (tests/fixtures/mime/21-33): every mail readable, its problems named, its
addresses taken from the address and never from the display name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from adapters.email.compose import ReplyComposer, compose_reply, envelope_recipients
from adapters.email.folder import FolderSender
from adapters.email.mime import parse_email, strip_quotes_and_signature
from adapters.email.settings import EmailSettings, MailboxSettings
from adapters.email.wiring import build_email_sender
from bot.ports.inbound import InboundMessage
from bot.views import OutboundView
from testkit.views import outbound_view
from threadline.app import Threadline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"


def parse(name: str) -> InboundMessage:
    raw = (FIXTURES / name).read_bytes()
    return parse_email(raw, inbox="support", own_message_id_domains={"threadline.test"})


def test_missing_boundary_shows_the_text_inside_and_names_the_problem() -> None:
    m = parse("21-missing-boundary.eml")
    assert m.text == "My order 5512 arrived broken, please help."
    assert [a.filename for a in m.attachments] == ["x.bin"]
    assert m.extra["malformed"] == "missing multipart boundary"


def test_wrong_boundary_shows_the_plain_text_once_without_boundary_lines() -> None:
    m = parse("22-boundary-mismatch.eml")
    assert m.text == "The invoice total is wrong by 12 euros."
    assert m.html is not None and "<p>" in m.html
    assert m.attachments == () and m.extra["malformed"] == "missing multipart boundary"


def test_forwarded_message_is_shown_inline_and_kept_as_attachment() -> None:
    m = parse("23-forwarded-inline.eml")
    assert "From: Shop Deliveries <deliveries@shop.example>" in m.text
    assert "Date: Mon, 05 Jan 2026 08:30:00 +0100" in m.text
    assert "Subject: Your delivery 7731 is delayed" in m.text
    assert "Your parcel 7731 will arrive next week." in m.text
    assert [(a.filename, a.content_type) for a in m.attachments] == [("message-1.eml", "message/rfc822")]


def test_empty_spurious_alternative_is_no_attachment() -> None:
    m = parse("24-spurious-alternative.eml")
    assert m.text == "Please cancel subscription 4410." and m.attachments == ()


def test_raw_boundary_lines_in_a_plain_body_are_read_as_parts() -> None:
    m = parse("25-raw-boundary-lines.eml")
    assert m.text == "The app crashes when I open settings."
    assert m.extra["malformed"] == "multipart parts without a multipart header"


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    assert parse("26-latin1-with-cp1252.eml").text == "The price is 80 €, not “cheap”. Straße 5."


def test_iso_8859_1_encoded_words_are_read_as_windows_1252() -> None:
    raw = (
        b"From: =?iso-8859-1?q?Fran=E7ois_=80?= <f@example.org>\nSubject: =?iso-8859-1?q?Preis_80_=80?=\n"
        b"Message-ID: <euro@example.org>\n\nhi\n"
    )
    m = parse_email(raw, inbox="support")
    assert (m.subject, m.sender_name) == ("Preis 80 €", "François €")


def test_latin1_bytes_in_a_utf8_part_fall_back_per_part_before_replacement() -> None:
    m = parse("27-utf8-labelled-latin1.eml")
    assert m.text == "Grüße aus München, café included."
    assert any("invalid utf-8" in e and "windows-1252" in e for e in m.parse_errors)


def test_bad_base64_is_named_in_one_line() -> None:
    m = parse("28-bad-base64.eml")
    assert m.text == "The password reset link expired."
    assert m.extra["malformed"] == "bad base64 in the text, report.pdf"


def test_huge_long_mail_is_shown_whole() -> None:
    m = parse("29-huge-long.eml")
    assert m.text.rstrip().endswith("THE LAST LINE")
    assert "line 1650 " in m.text and m.text.count("\n") >= 1650


def test_a_dash_dash_line_inside_a_long_text_is_no_signature() -> None:
    pasted = "\n".join(["My log:", *(f"step {n}" for n in range(5)), "--", *(f"line {n}" for n in range(40))])
    assert strip_quotes_and_signature(pasted).endswith("line 39")
    assert strip_quotes_and_signature("Thanks\n-- \nBob\nCEO") == "Thanks"


def test_address_comes_from_the_address_not_the_encoded_display_name() -> None:
    m = parse("30-crlf-bcc-name.eml")
    assert m.sender_address == "eve@example.com"
    assert m.sender_name is not None and "\r" not in m.sender_name and "\n" not in m.sender_name
    assert m.extra["cc"] == "mallory@example.org, other@example.net"


def test_mail_without_sender_is_flagged() -> None:
    m = parse("31-no-sender.eml")
    assert m.sender_address == "" and m.extra["malformed"] == "no sender address"


def test_control_characters_and_bidi_overrides_are_stripped_from_headers() -> None:
    m = parse("32-control-chars-subject.eml")
    assert m.subject == "Invoice URGENT fdp.exe"
    assert m.sender_name == "Admin"


def _view(to: str, extra: dict[str, str]) -> OutboundView:
    return outbound_view(to_address=to, to_name="Dana", extra=extra)


def test_reply_all_goes_to_the_customers_to_and_cc_minus_our_addresses() -> None:
    m = parse("33-reply-all.eml")
    assert m.extra["to"] == "support@threadline.test, bob@example.com"
    assert m.extra["cc"] == "carol@example.com, support@threadline.test"
    view = _view("dana@example.com", {"to": m.extra["to"], "cc": m.extra["cc"]})
    mail = compose_reply(
        view,
        message_id_domain="threadline.test",
        from_format="{agent} via {inbox_name}",
        inbox_name="Support",
        reply_all=True,
        own_addresses=frozenset({"support@threadline.test"}),
    )
    assert mail["To"] == "Dana <dana@example.com>"
    assert mail["Cc"] == "bob@example.com, carol@example.com"
    assert envelope_recipients(mail) == ["dana@example.com", "bob@example.com", "carol@example.com"]
    only = compose_reply(
        view,
        message_id_domain="threadline.test",
        from_format="{agent} via {inbox_name}",
        inbox_name="Support",
        reply_all=False,
    )
    assert only["Cc"] is None and envelope_recipients(only) == ["dana@example.com"]


async def test_senderless_mails_get_a_contact_each(app: Threadline) -> None:
    raw = (FIXTURES / "31-no-sender.eml").read_bytes()
    for n in (1, 2):
        mail = raw.replace(b"<nosender-1@example.com>", f"<nosender-{n}@example.com>".encode())
        mail = mail.replace(b"Subject: Who am I", f"Subject: Who am I {n}".encode())
        await app.ingestor.ingest(parse_email(mail, inbox="support"))
    async with app.store.transaction() as uow:
        first, second = [await uow.conversations.conversation_by_number(n) for n in (1, 2)]
        assert first is not None and second is not None and first.contact_id != second.contact_id
        assert (await uow.contacts.contact(first.contact_id)).identities[0].kind == "none"


def test_reply_all_off_for_an_inbox_in_the_built_sender(tmp_path: Path) -> None:
    settings = EmailSettings(
        outgoing_dir=str(tmp_path),
        mailboxes={"s": MailboxSettings(inbox="support", kind="folder", path=str(tmp_path), reply_all=False)},
        own_addresses=["help@threadline.test"],
    )
    sender = build_email_sender(settings, inbox_addresses=["support@threadline.test"])
    assert isinstance(sender, FolderSender)
    view = _view("dana@example.com", {"to": "help@threadline.test, bob@example.com"})
    assert sender.composer(view)["Cc"] is None
    other = replace(view, inbox="sales")  # an inbox without a mailbox setting: reply-all
    assert sender.composer(other)["Cc"] == "bob@example.com"


def test_reply_all_includes_a_colleague_who_wrote_last() -> None:
    extra = {"from": "bob@example.com", "to": "support@threadline.test", "cc": "dana@example.com"}
    mail = ReplyComposer()(_view("dana@example.com", extra))
    assert mail["To"] == "Dana <dana@example.com>" and mail["Cc"] == "bob@example.com"


async def test_last_customer_meta_skips_mail_no_human_wrote(any_app: Threadline) -> None:
    await any_app.ingestor.ingest(parse("33-reply-all.eml"))
    bounce = (
        (FIXTURES / "11-dsn-bounce.eml")
        .read_bytes()
        .replace(b"<tl.0f0f0f@threadline.test>", b"<replyall-1@example.com>")
    )
    await any_app.ingestor.ingest(parse_email(bounce, inbox="support"))
    async with any_app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None and await uow.conversations.count_conversations() == 1
        meta = await uow.messages.last_customer_meta(conversation.id)
    assert (meta["from"], meta["cc"]) == ("dana@example.com", "carol@example.com, support@threadline.test")
