"""Outbound Discord within every limit, through the strict fake: long mails, long cards, inert
customer text, attachments split by Discord's request limits."""

from __future__ import annotations

from typing import Any

from adapters.discord.text import unescape
from bot.ports.inbound import InboundAttachment
from testkit.discord.limits import EMBED_TOTAL_LIMIT, FILE_SIZE_LIMIT
from testkit.discord.rig import DiscordRig, email_in

MiB = 1024 * 1024


async def deliver(h: DiscordRig, **fields: Any) -> int:
    await h.app.ingestor.ingest(email_in(h.clock.now(), **fields))
    await h.app.dispatcher.drain()
    return h.thread_id()


def customer_posts(h: DiscordRig, thread: int) -> list[dict[str, Any]]:
    return [
        m
        for m in h.fake.posts(thread)
        if m["embeds"] and "(customer)" in m["embeds"][0].get("author", {}).get("name", "")
    ]


def shown(messages: list[dict[str, Any]]) -> str:
    """What a reader sees of the customer's text, whitespace aside."""
    return "".join(unescape(m["embeds"][0]["description"]) for m in messages)


def words(text: str) -> str:
    return "".join(text.split())


async def test_a_40000_character_mail_appears_whole_and_in_order(harness: DiscordRig) -> None:
    paragraph = "Order *1881* arrived_broken; see [photo](https://shop.example/p?id=1&x=2) — ção 👍🏽 done. "
    text = "".join(f"{n:05d} {paragraph}" + ("\n\n" if n % 7 == 0 else "") for n in range(440))[:40000]
    thread = await deliver(harness, text=text)
    posts = customer_posts(harness, thread)
    assert len(posts) > 9
    assert words(shown(posts)) == words(text)
    numbers = [int(n) for n in __import__("re").findall(r"\b(\d{5}) Order", shown(posts))]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))


async def test_customer_text_cannot_format_or_mask_links(harness: DiscordRig) -> None:
    text = (
        "**free** _money_ ~~now~~ ||spoiler|| `code` [your bank](https://evil.example/login) "
        "<@600000000000000001>\n# Urgent\n> quoted"
    )
    thread = await deliver(harness, text=text)
    (post,) = customer_posts(harness, thread)
    description = post["embeds"][0]["description"]
    assert unescape(description) == text
    assert "\\[your bank\\](https://evil.example/login)" in description  # shown as typed, not a link
    assert "\\*\\*free\\*\\*" in description and "\\<@600000000000000001>" in description
    assert description.splitlines()[1] == "\\# Urgent" and description.splitlines()[2] == "\\> quoted"


async def test_a_long_subject_and_name_still_make_a_card_within_6000(harness: DiscordRig) -> None:
    thread = await deliver(harness, subject="Refund " * 700, name="Jane " * 600, text="hello")
    card = harness.card(thread)
    embed = card["embeds"][0]
    texts = [embed.get("title"), embed.get("description"), embed["footer"]["text"]]
    texts += [t for f in embed["fields"] for t in (f["name"], f["value"])]
    assert sum(len(t or "") for t in texts) <= EMBED_TOTAL_LIMIT
    assert embed["description"].startswith('"Refund Refund')
    assert customer_posts(harness, thread)[0]["embeds"][0]["description"] == "hello"


async def test_a_refused_card_leaves_no_empty_thread_behind(harness: DiscordRig) -> None:
    harness.fake.fail_next(
        "POST", r"^/channels/\d+/messages$", 400, {"code": 50035, "message": "Invalid Form Body"}
    )
    await harness.app.ingestor.ingest(email_in(harness.clock.now()))
    await harness.app.dispatcher.drain()
    (first,) = [int(c.path.split("/")[2]) for c in harness.fake.find("POST", r"^/channels/\d+/messages$")][:1]
    assert first not in harness.fake.channels  # the thread whose card was refused is gone
    for thread in harness.fake.threads():  # any thread there is has its card first
        assert harness.card(int(thread["id"]))["embeds"][0]["title"].startswith("#1 ")


async def test_six_5_mb_photos_all_arrive(harness: DiscordRig) -> None:
    photos = tuple(
        InboundAttachment(f"photo{n}.jpg", "image/jpeg", 5 * 1000 * 1000, bytes([n]) * (5 * 1000 * 1000))
        for n in range(6)
    )
    thread = await deliver(harness, attachments=photos, text="the damage")
    uploaded = [(a["filename"], a["size"]) for m in harness.fake.posts(thread) for a in m["attachments"]]
    assert uploaded == [(f"photo{n}.jpg", 5_000_000) for n in range(6)]
    requests = [c for c in harness.fake.find("POST", rf"^/channels/{thread}/messages$") if c.files]
    assert all(sum(len(d) for _, d in c.files) <= 25 * MiB and len(c.files) <= 10 for c in requests)


async def test_a_file_over_the_upload_limit_is_listed_with_a_note(harness: DiscordRig) -> None:
    big = InboundAttachment("scan.pdf", "application/pdf", FILE_SIZE_LIMIT + 1, b"0" * (FILE_SIZE_LIMIT + 1))
    small = InboundAttachment("note.txt", "text/plain", 3, b"abc")
    thread = await deliver(harness, attachments=(big, small), text="two files")
    (post,) = customer_posts(harness, thread)
    assert [a["filename"] for a in post["attachments"]] == ["note.txt"]
    shown_text = unescape(post["embeds"][0]["description"])
    assert (
        "📎 scan.pdf · application/pdf · 10.0 MiB (too large to upload to Discord (over 10.0 MiB))"
        in shown_text
    )
