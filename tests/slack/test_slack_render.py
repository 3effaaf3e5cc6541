"""Block Kit rendering: the card's content and buttons, escaping of customer text, Block Kit limits."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from functools import partial

import pytest

from adapters.slack.render import MAX_BLOCKS, card_blocks, escape, post_chunks
from adapters.slack.split import split_plain, units
from bot.views import AttachmentView, PostView
from testkit.slack.read import card_fields, literal_text
from testkit.slack.rules import blocks_error
from testkit.views import NOW, card_view, inbound_post

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<http://evil.example|innocent>",
    "<#C024BE7LR>",
    "<!subteam^S0123>",
    "&lt;!channel&gt;",
]


card = partial(
    card_view,
    customer="Ann <!channel>",
    customer_address="ann@example.com",
    subject="Refund <@U999> for 1881",
    labels=("refund", "vip"),
    priority="high",
)
inbound = partial(inbound_post, author="Ann", message_uid=None)


def rendered_strings(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("attack", [*INJECTIONS, "*bold* _it_ ~strike~ `code` ```block```"])
def test_customer_text_cannot_mention_link_or_format(attack: str) -> None:
    chunks = post_chunks(inbound(f"hi {attack} there"))
    assert [b["type"] for b in chunks[0].blocks] == ["rich_text"]  # rich text is never read as mrkdwn
    assert literal_text({"blocks": chunks[0].blocks}) == f"hi {attack} there"
    assert "<" not in chunks[0].text  # the notification fallback is escaped


@pytest.mark.parametrize("attack", INJECTIONS)
def test_card_fields_from_customers_are_escaped(attack: str) -> None:
    text, blocks = card_blocks(card(customer=f"Ann {attack}", subject=f"Help {attack}", labels=(attack,)))
    title = literal_text({"blocks": blocks[:1]})
    assert blocks[0]["type"] == "rich_text" and f"Ann {attack}" in title and f"Help {attack}" in title
    assert attack not in text
    assert attack not in card_fields({"blocks": blocks})["Labels"]


def test_escape_is_exactly_amp_lt_gt() -> None:
    assert escape("a & b < c > d *bold* _i_") == "a &amp; b &lt; c &gt; d *bold* _i_"


def test_card_shows_everything_and_the_buttons() -> None:
    snoozed = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    text, blocks = card_blocks(card(status="snoozed", assignee="Alice", snoozed_until=snoozed))
    assert text.startswith("#42 · email")
    number, _, emoji, _ = blocks[0]["elements"][0]["elements"]
    assert number == {"type": "text", "text": "#42", "style": {"bold": True}} and emoji["name"] == "email"
    assert "ann@example.com" in literal_text({"blocks": blocks[:1]})
    fields = card_fields({"blocks": blocks})
    assert "snoozed until <!date^" in fields["Status"]
    assert (
        fields["Assignee"] == "Alice"
        and fields["Labels"] == "`refund`, `vip`"
        and fields["Priority"] == "high"
    )
    actions = blocks[-1]
    assert actions["block_id"] == "tl_card:42"
    kinds = {e["action_id"]: e for e in actions["elements"]}
    assert set(kinds) == {"tl_claim", "tl_assign", "tl_labels", "tl_snooze", "tl_close", "tl_reopen"}
    assert kinds["tl_claim"]["value"] == "42"
    assert kinds["tl_assign"]["type"] == "users_select"
    assert kinds["tl_labels"]["type"] == "multi_external_select"
    assert [o["value"] for o in kinds["tl_labels"]["initial_options"]] == ["refund", "vip"]
    assert kinds["tl_snooze"]["type"] == "static_select"


def test_closed_card_offers_reopen_only() -> None:
    _, blocks = card_blocks(card(status="closed"))
    kinds = [e["action_id"] for e in blocks[-1]["elements"]]
    assert "tl_reopen" in kinds and "tl_close" not in kinds and "tl_claim" not in kinds
    _, blocks = card_blocks(card(status="open"))
    assert "tl_reopen" not in [e["action_id"] for e in blocks[-1]["elements"]]


def test_whatsapp_card_icon() -> None:
    _, blocks = card_blocks(card(channel="whatsapp"))
    assert blocks[0]["elements"][0]["elements"][2] == {"type": "emoji", "name": "speech_balloon"}


def test_long_email_is_split_within_block_kit_limits() -> None:
    paragraph = ("Lorem ipsum dolor sit amet & <b>consectetur</b>. " * 40 + "\n") * 200  # ~400 kB
    chunks = post_chunks(inbound(paragraph))
    assert len(chunks) > 1
    for chunk in chunks:
        assert blocks_error(chunk.blocks) is None and units(chunk.text) <= 3000
        assert len(chunk.blocks) <= MAX_BLOCKS
    joined = "".join(literal_text({"blocks": c.blocks}) for c in chunks)
    assert len(chunks) == 10 and "more characters are too long to show in Slack" in joined
    assert paragraph.replace("\n", "").startswith(joined.rsplit("…", 1)[0].replace("\n", ""))


def test_forty_thousand_characters_fit_slack_in_order() -> None:
    text = "".join(f"line {i:05d} " + "x" * 90 + "\n" for i in range(400))  # 40,000 characters
    chunks = post_chunks(inbound(text))
    assert all(blocks_error(c.blocks) is None for c in chunks)  # the old renderer: msg_blocks_too_long
    shown = "\n".join(literal_text({"blocks": c.blocks}) for c in chunks)
    assert [line for line in shown.split("\n") if line] == text.split("\n")[:-1]


def test_cuts_never_split_a_character_an_emoji_or_a_link() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of five code points
    for text in ("é" * 2999 + "e\u0301" * 10, family * 700, "a " * 1400 + "https://x.example/" + "p" * 400):
        pieces = split_plain(text, 3000)
        assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
        assert all(units(p) <= 3000 for p in pieces)
        for left, right in itertools.pairwise(pieces):
            assert not right.startswith(("\u0301", "\u200d")) and not left.endswith("\u200d")
    link = split_plain("a " * 1400 + "https://x.example/" + "p" * 400, 3000)
    assert link[1].startswith("https://x.example/")


def test_split_prefers_line_breaks() -> None:
    text = "a" * 2000 + "\n" + "b" * 2000
    assert split_plain(text, 3000) == ["a" * 2000, "b" * 2000]
    assert split_plain("", 3000) == [""]


def test_card_fields_and_title_stay_within_limits_and_never_cut_an_entity() -> None:
    labels = tuple(f"label-{i}-&" for i in range(400))
    text, blocks = card_blocks(card(labels=labels, subject="&" * 4000))
    assert blocks_error(blocks) is None  # the old card: a Labels field over 2,000 characters
    title = literal_text({"blocks": blocks[:1]})
    assert title.endswith("&…") and units(title) <= 3000 and units(text) <= 300
    assert text.rstrip("…").endswith("&amp;")


def test_attachments_that_were_not_kept_are_listed() -> None:
    post = inbound(
        "see file",
        attachments=(
            AttachmentView("big<!here>.zip", "application/zip", 30_000_000, None, "too large to keep"),
        ),
    )
    text = literal_text({"blocks": post_chunks(post)[0].blocks})
    assert "big<!here>.zip" in text and "too large to keep" in text


def test_notes_events_and_replies_are_marked() -> None:
    note = post_chunks(PostView(kind="note", author="Alice", text="call back <!channel>", created_at=NOW))
    assert "Note by Alice" in rendered_strings(note[0].blocks)
    assert note[0].blocks[1]["type"] == "rich_text"  # shown as typed: "<!channel>" mentions nobody
    echo = post_chunks(
        PostView(kind="outbound", author="Alice", text="Thanks", created_at=NOW, channel="email")
    )
    assert "sent to customer by Alice (email)" in rendered_strings(echo[0].blocks)
    event = post_chunks(PostView(kind="event", author="Alice", text="claimed by Alice", created_at=NOW))
    assert event[0].blocks[0]["type"] == "context" and "claimed by Alice" in event[0].text
