"""MIME parsing: a corpus of real-world shapes; each is readable or records a parse error, never raises."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from adapters.email.classify import is_own_message
from adapters.email.htmltext import html_to_text
from adapters.email.mime import parse_email, strip_quotes_and_signature
from bot.ports.inbound import AutoKind, InboundMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mime"
OWN = {"threadline.test"}
CORPUS = sorted(FIXTURES.glob("*.eml"))


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(raw: bytes, **kwargs: Any) -> InboundMessage:
    return parse_email(raw, inbox="support", own_message_id_domains=OWN, **kwargs)


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_file_parses_readably(path: Path) -> None:
    message = parse(path.read_bytes())
    assert message.channel == "email" and message.inbox == "support"
    assert message.external_id.startswith("<") and message.external_id.endswith(">")
    assert message.text.strip(), "the thread must always show something"
    assert message.raw == path.read_bytes()
    assert message.match_open_by_contact is False
    unreadable = {ch for ch in message.text if not ch.isprintable() and ch != "\n"}
    assert not unreadable, f"control characters in the thread text: {sorted(map(repr, unreadable))}"


def test_plain() -> None:
    m = parse(load("01-plain.eml"))
    assert (m.external_id, m.sender_name, m.sender_address) == (
        "<plain-1@example.com>",
        "Alice Example",
        "alice@example.com",
    )
    assert "refund for order 1881" in m.text and m.auto_kind is None and m.parse_errors == ()


def test_broken_boundary_records_defects() -> None:
    m = parse(load("02-broken-boundary.eml"))
    assert "boundary that never closes" in m.text
    assert any("Boundary" in e for e in m.parse_errors)


def test_8bit_headers_and_rfc2047() -> None:
    m = parse(load("03-8bit-headers.eml"))
    assert m.subject == "Rückerstattung für Bestellung" and m.sender_name == "Jürgen Müller"
    m = parse(load("10-rfc2047-subject.eml"))
    assert m.subject == "Bestätigung der Rücksendung für Auftrag [#42]"
    assert m.sender_address == "juergen@example.de" and m.conversation_hint == 42
    assert m.thread_refs == ("<tl.abc123@threadline.test>", "<first@example.de>")


def test_unknown_charset_and_invalid_bytes() -> None:
    m = parse(load("04-unknown-charset.eml"))
    assert m.text == "Café crème" and any("unknown charset" in e for e in m.parse_errors)
    m = parse(load("18-invalid-utf8-body.eml"))
    assert "bytes here" in m.text and any("invalid utf-8" in e for e in m.parse_errors)


def test_a_charset_label_with_a_nul_is_an_unknown_charset() -> None:
    """Found by the fuzz test: ``charset="utf\x00-8"`` made the codec lookup raise ValueError."""
    raw = load("04-unknown-charset.eml").replace(b"charset=", b'charset="ut\x00f-8" x=', 1)
    m = parse(raw)
    assert isinstance(m.text, str) and any("unknown charset" in e for e in m.parse_errors)


def test_missing_message_id_is_synthesized_stably() -> None:
    raw = load("05-missing-message-id.eml")
    first, second = parse(raw), parse(raw)
    assert first.external_id == second.external_id
    assert hashlib.sha256(raw).hexdigest()[:40] in first.external_id
    assert any("Message-ID" in e for e in first.parse_errors)


def test_nested_multipart_prefers_plain_and_keeps_html_and_attachment() -> None:
    m = parse(load("06-nested-multipart.eml"))
    assert m.text == "Plain version of the nested message."
    assert m.html is not None and "<b>nested</b>" in m.html
    assert [(a.filename, a.content_type) for a in m.attachments] == [("orders.csv", "text/csv")]
    assert m.attachments[0].data == b"id,total\r\n1881,42.00"  # the CRLF before a boundary belongs to it


def test_only_html_becomes_readable_text() -> None:
    m = parse(load("07-only-html.eml"))
    assert "1881 (https://shop.example.com/o/1881)" in m.text
    assert "alert" not in m.text and "color" not in m.text
    assert "- Order 1881" in m.text and "\nPlease help." in m.text


def test_only_attachment_and_empty() -> None:
    m = parse(load("08-only-attachment.eml"))
    assert "invoice.pdf" in m.text and m.attachments[0].data is not None
    assert m.attachments[0].data.startswith(b"%PDF")
    assert parse(load("09-empty.eml")).text == "(empty message)"


def test_dsn_bounce_extracts_bounced_message_id() -> None:
    m = parse(load("11-dsn-bounce.eml"))
    assert m.auto_kind == AutoKind.BOUNCE
    assert m.bounced_refs == ("<tl.0f0f0f@threadline.test>",)


def test_auto_reply_and_list_mail() -> None:
    assert parse(load("12-auto-reply.eml")).auto_kind == AutoKind.AUTO_REPLY
    assert parse(load("13-list-mail.eml")).auto_kind == AutoKind.LIST
    assert parse(load("01-plain.eml")).auto_kind is None


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Auto-Submitted: auto-generated", AutoKind.AUTO_REPLY),
        ("Auto-Submitted: no", None),
        ("X-Autoreply: yes", AutoKind.AUTO_REPLY),
        ("X-Autorespond: yes", AutoKind.AUTO_REPLY),
        ("Precedence: auto_reply", AutoKind.AUTO_REPLY),
        ("Precedence: junk", AutoKind.LIST),
        ("Precedence: list", AutoKind.LIST),
        ("Return-Path: <>", AutoKind.BOUNCE),
    ],
)
def test_loop_headers(header: str, kind: str | None, mail) -> None:
    raw = mail(1).replace(b"Subject:", header.encode() + b"\r\nSubject:", 1)
    assert parse(raw).auto_kind == kind


def test_postmaster_sender_is_a_bounce(mail) -> None:
    raw = mail(1).replace(b"customer1@example.com", b"postmaster@example.com")
    assert parse(raw).auto_kind == AutoKind.BOUNCE


def test_quoted_reply_and_signature_are_stripped_but_kept() -> None:
    m = parse(load("14-quoted-reply-signature.eml"))
    assert m.text == "Yes, please send it to the same card."
    assert m.original_text is not None and "shall we refund" in m.original_text and "CEO" in m.original_text
    assert m.conversation_hint == 42


def test_inline_image() -> None:
    m = parse(load("15-inline-image.eml"))
    assert "See the error:" in m.text
    (image,) = m.attachments
    assert image.inline and image.content_id == "shot1@example.com" and image.content_type == "image/png"


def test_bad_headers_never_raise() -> None:
    m = parse(load("16-bad-headers.eml"))
    assert m.text == "Body survives bad headers."
    assert m.external_id == "<no-brackets-id@example.com>"
    assert m.sender_address == "" and any("address" in e for e in m.parse_errors)


def test_reply_to_wins_for_the_address() -> None:
    m = parse(load("17-reply-to.eml"))
    assert (m.sender_name, m.sender_address) == ("Alice Example", "alice@work.example.com")


def test_forwarded_message_is_an_attachment_and_shown_inline() -> None:
    m = parse(load("19-forwarded-rfc822.eml"))
    assert m.text.startswith("See the attached message.\n\n---------- Forwarded message ----------\n")
    assert "From: someone@example.org\nSubject: original" in m.text and m.text.endswith("Inner body.")
    assert m.attachments[0].content_type == "message/rfc822" and b"Inner body." in (
        m.attachments[0].data or b""
    )


def test_garbage_never_raises() -> None:
    m = parse(load("20-no-headers-garbage.eml"))
    assert "not an email" in m.text and m.parse_errors
    for junk in (
        b"",
        b"\r\n",
        b"\xff" * 100,
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
    ):
        assert parse(junk).text


def test_huge_message_drops_attachment_content_over_the_limit(mail) -> None:
    import base64

    blob = base64.encodebytes(b"\0" * (3 * 1024 * 1024)).replace(b"\n", b"\r\n")
    body = ("line of text\r\n" * 200_000).encode()
    raw = (
        b"From: a@example.com\r\nSubject: huge\r\nMessage-ID: <huge@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="h"\r\n\r\n--h\r\nContent-Type: text/plain\r\n\r\n'
        + body
        + b'--h\r\nContent-Type: application/octet-stream; name="big.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + blob
        + b"--h--\r\n"
    )
    m = parse(raw, max_attachment_bytes=1024 * 1024)
    (big,) = m.attachments
    assert big.too_large and big.data is None and big.size == 3 * 1024 * 1024 and big.filename == "big.bin"
    assert m.text.startswith("line of text")


def test_own_messages_are_recognised(mail) -> None:
    own = mail(1).replace(b"<msg-1@example.com>", b"<tl.0001@threadline.test>")
    assert is_own_message(own, OWN) and is_own_message(own, {"THREADLINE.TEST"})
    assert parse(own).extra.get("own_message") == "true"
    assert not is_own_message(mail(1), OWN)
    assert not is_own_message(own, set())
    foreign = mail(1).replace(b"<msg-1@example.com>", b"<tl.0001@elsewhere.test>")
    assert not is_own_message(foreign, OWN)


def test_strip_never_leaves_nothing() -> None:
    assert strip_quotes_and_signature("> only a quote\n> nothing new") == "> only a quote\n> nothing new"
    assert strip_quotes_and_signature("Thanks\n-- \nBob") == "Thanks"


def test_html_to_text_details() -> None:
    assert html_to_text("<p>a<br>b</p><p>c</p>") == "a\nb\n\nc"
    assert html_to_text('<a href="mailto:x@y.z">x@y.z</a>') == "x@y.z"
    assert html_to_text("<style>p{}</style><script>x()</script>ok &amp; fine") == "ok & fine"
    assert isinstance(html_to_text("<div><unclosed"), str)
