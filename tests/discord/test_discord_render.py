"""Rendering for Discord without a network: limits, splitting, the card, customer posts, attachments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.discord.components import card_controls
from adapters.discord.digest import digest_embed
from adapters.discord.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    UPLOAD_LIMIT,
    card_embed,
    part_nonce,
    post_messages,
    thread_name,
)
from adapters.discord.text import escape, split_text, unescape
from bot.config import ConfigError
from bot.views import AttachmentView, DeliveryKey, DigestEntry, DigestView, PostView
from testkit.views import NOW, card_view
from threadline.config import parse_config


def test_split_text_respects_the_limit_and_prefers_breaks() -> None:
    text = ("word " * 1000).strip()
    pieces = split_text(text, 2000)
    assert all(len(p) <= 2000 for p in pieces)
    assert " ".join(pieces) == text
    assert all(not p.endswith(" ") and not p.startswith("w ") for p in pieces)
    paragraphs = "a" * 1500 + "\n\n" + "b" * 1500
    assert split_text(paragraphs, 2000) == ["a" * 1500, "b" * 1500]
    assert split_text("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_long_customer_message_becomes_several_embeds_under_the_customer_name() -> None:
    post = PostView(
        kind="inbound",
        author="Jane Doe",
        text="line\n" * 2000,
        created_at=NOW,
        from_customer=True,
        channel="email",
    )
    messages = post_messages(post)
    assert len(messages) == 3
    for index, message in enumerate(messages, 1):
        assert message.embed is not None and message.content is None
        assert len(message.embed.description or "") <= DESCRIPTION_LIMIT
        assert message.embed.author.name == f"Jane Doe (customer) ({index}/3)"
    joined = "\n".join(m.embed.description or "" for m in messages if m.embed)
    assert joined.split() == ("line\n" * 2000).split()


def test_events_and_notices_fit_in_message_content() -> None:
    event = post_messages(PostView(kind="event", author="Alice", text="claimed by Alice", created_at=NOW))
    assert [m.content for m in event] == ["-# · claimed by Alice"]
    notice = post_messages(PostView(kind="notice", author="Threadline", text="x" * 5000, created_at=NOW))
    assert all(len(m.content or "") <= CONTENT_LIMIT for m in notice) and len(notice) == 3


def test_attachments_are_uploaded_ten_per_message_and_oversized_ones_listed() -> None:
    files = tuple(AttachmentView(f"f{i}.txt", "text/plain", 3, b"abc") for i in range(12))
    big = AttachmentView("huge.bin", "application/octet-stream", UPLOAD_LIMIT + 1, b"0")
    dropped = AttachmentView("gone.pdf", "application/pdf", 99_000_000, None, note="too large to keep")
    post = PostView(
        kind="inbound",
        author="Jane",
        text="see attached",
        created_at=NOW,
        from_customer=True,
        attachments=(*files, big, dropped),
    )
    messages = post_messages(post)
    assert [len(m.files) for m in messages] == [10, 2]
    description = messages[0].embed.description if messages[0].embed else ""
    assert "📎 huge.bin" in (description or "") and "too large to upload" in (description or "")
    assert "📎 gone.pdf" in (description or "") and "too large to keep" in (description or "")


def test_card_embed_shows_status_assignee_labels_and_snooze_in_the_inbox_zone() -> None:
    snoozed = card_view(
        status="snoozed",
        assignee="Alice Martin",
        labels=("refund", "vip"),
        priority="urgent",
        snoozed_until=datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        timezone="Europe/Amsterdam",
    )
    embed = card_embed(snoozed)
    fields = {f.name: f.value for f in embed.fields}
    assert embed.title == "#42 · ✉ email · jane@example.org"
    assert fields["Status"] == "snoozed until Tue 06 Jan 09:00 (Europe/Amsterdam)"
    assert fields["Assignee"] == "Alice Martin" and fields["Labels"] == "refund, vip"
    assert fields["Priority"] == "urgent"
    assert len(thread_name(card_view(subject="s" * 300))) == 100


def test_card_components_carry_the_conversation_number() -> None:
    view = card_controls(card_view(labels=("refund",)), ["billing", "refund"])
    ids = [item.to_component_dict()["custom_id"] for item in view.children]
    assert ids == ["tl:claim:42", "tl:close:42", "tl:assign:42", "tl:labels:42", "tl:snooze:42"]
    labels = view.children[3].to_component_dict()
    assert [(o["value"], o.get("default", False)) for o in labels["options"]] == [
        ("refund", True),
        ("billing", False),
    ]
    closed = card_controls(card_view(status="closed"), [])
    assert [i.to_component_dict()["custom_id"] for i in closed.children] == [
        "tl:claim:42",
        "tl:reopen:42",
        "tl:assign:42",
    ]


def test_discord_settings_are_validated() -> None:
    base = """
[surfaces.discord]
bot_token = "t"
api_base_url = "{url}"
[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "discord"
chat_channel = "1"
[channels.email]
outgoing_dir = "/tmp/x"
"""
    settings = parse_config(base.format(url="http://127.0.0.1:9/api/v10/"), env={})
    assert settings.surfaces.discord is not None
    assert settings.surfaces.discord.api_base_url == "http://127.0.0.1:9/api/v10"
    assert settings.surfaces.discord.pace_messages == 5
    with pytest.raises(ConfigError) as err:
        parse_config(base.format(url="discord.com"), env={})
    assert "surfaces.discord.api_base_url" in str(err.value)


def test_split_text_never_cuts_an_escape_a_url_or_a_joined_symbol() -> None:
    assert split_text("a" * 10 + "\\*" + "b", 11) == ["a" * 10, "\\*b"]
    assert split_text("x" * 9 + "e\u0301yy", 10) == ["x" * 9, "e\u0301yy"]  # é as e + combining accent
    family = "\U0001f469\u200d\U0001f467"
    assert split_text("x" * 9 + family, 10) == ["x" * 9, family]
    assert split_text("x" * 5 + "https://example.com/abcdef", 20) == [
        "x" * 5,
        "https://example.com/",
        "abcdef",
    ]
    text = ("*a_b* [l](https://x.example/a_b?c=1) \U0001f44d\U0001f3fd " * 300).strip()
    pieces = split_text(escape(text), 97)
    assert all(len(p) <= 97 and not p.endswith("\\") for p in pieces)
    assert "".join(unescape(p) for p in pieces).replace(" ", "") == text.replace(" ", "")
    assert all("https://x.example/a_b?c=1)" in p for p in pieces if "https://" in p)


def test_escape_keeps_bare_urls_and_escapes_line_starts() -> None:
    assert escape("see https://x.example/a_b?c=*1*") == "see https://x.example/a_b?c=*1*"
    assert escape("1. one\n- two\n# three\n> four") == "1\\. one\n\\- two\n\\# three\n\\> four"
    assert escape("<@123> <#456> [t](u)") == "\\<@123> \\<#456> \\[t\\](u)"


def test_every_part_of_a_post_gets_its_own_nonce_within_25_characters() -> None:
    uid = "0f8e2d4c-1b3a-4c5d-9e7f-123456789abc"
    post = PostView(kind="inbound", author="A", text="t", created_at=datetime.now(UTC), message_uid=uid)
    nonces = [part_nonce(post, index) for index in range(1000)]
    assert len(set(nonces)) == 1000 and all(len(str(n)) <= 25 for n in nonces)
    keyed = replace(post, delivery=DeliveryKey(10**18 - 1, retried=True))  # the outbox id wins
    by_row = [part_nonce(keyed, index) for index in range(1000)]
    assert len(set(by_row)) == 1000 and all(len(str(n)) <= 25 for n in by_row)
    assert part_nonce(keyed, 0) == part_nonce(replace(keyed, delivery=DeliveryKey(10**18 - 1)), 0)


def test_digest_shows_customer_subjects_literally() -> None:
    entry = DigestEntry(
        number=7,
        subject="[win](https://evil.example) **now**",
        inbox="support",
        assignee=None,
        waiting_since=None,
    )
    digest = DigestView(
        name="daily",
        title="Daily",
        period_start=NOW,
        period_end=NOW,
        timezone="UTC",
        inboxes=("support",),
        open=1,
        unassigned=1,
        snoozed=0,
        breached=0,
        opened=1,
        closed=0,
        median_first_response=None,
        median_resolution=None,
        sla_compliance=None,
        oldest=(entry,) * 40,
    )
    waiting = next(f for f in digest_embed(digest).fields if f.name == "Waiting longest")
    assert '#7 "\\[win\\](https://evil.example) \\*\\*now\\*\\*"' in (waiting.value or "")
    assert len(waiting.value or "") <= 1024 and (waiting.value or "").endswith("unassigned")


def test_the_customers_organisation_is_on_the_card() -> None:
    embed = card_embed(card_view(channel="slack", customer_address="UCUST", account="TCUSTORG"))
    assert "org TCUSTORG" in (embed.footer.text or "")
    assert "org" not in (card_embed(card_view()).footer.text or "")
