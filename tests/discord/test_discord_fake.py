"""The fake Discord keeps its promise: it refuses what Discord documents refusing (through discord.py)."""

from __future__ import annotations

import io
from typing import Any

import discord
import pytest
from discord.http import Route

from testkit.discord.fake import NONCE_SECONDS, FakeDiscord
from testkit.discord.limits import FILE_SIZE_LIMIT
from testkit.discord.rig import DiscordRig

MiB = 1024 * 1024


def channel(h: DiscordRig, cid: int | None = None) -> Any:
    assert h.app.discord is not None
    return h.app.discord.client.get_partial_messageable(cid or h.channel_id)


def embed(description: str = "", **parts: str) -> discord.Embed:
    made = discord.Embed(description=description or None, title=parts.get("title"))
    if "author" in parts:
        made.set_author(name=parts["author"])
    if "footer" in parts:
        made.set_footer(text=parts["footer"])
    for name, value in (("n", parts["field"]),) if "field" in parts else ():
        made.add_field(name=name, value=value)
    return made


def many_fields(count: int) -> discord.Embed:
    made = discord.Embed(description="d")
    for n in range(count):
        made.add_field(name=f"n{n}", value="v")
    return made


def files(count: int, size: int) -> list[discord.File]:
    return [discord.File(io.BytesIO(b"0" * size), filename=f"f{n}.bin") for n in range(count)]


REFUSED: list[tuple[str, dict[str, Any], int]] = [
    ("content over 2,000", {"content": "x" * 2001}, 50035),
    ("title over 256", {"embed": embed("d", title="t" * 257)}, 50035),
    ("description over 4,096", {"embed": embed("d" * 4097)}, 50035),
    ("author over 256", {"embed": embed("d", author="a" * 257)}, 50035),
    ("footer over 2,048", {"embed": embed("d", footer="f" * 2049)}, 50035),
    ("field value over 1,024", {"embed": embed("d", field="v" * 1025)}, 50035),
    ("26 fields", {"embed": many_fields(26)}, 50035),
    ("6,001 across embeds", {"embeds": [embed("d" * 4000), embed("d" * 2001)]}, 50035),
    ("11 files", {"files": files(11, 1)}, 30015),
    ("a file over 10 MiB", {"files": files(1, FILE_SIZE_LIMIT + 1)}, 40005),
    ("26 MiB in one request", {"files": files(3, 9 * MiB)}, 40005),
    ("nothing to show", {"content": "   "}, 50006),
    ("a nonce over 25 characters", {"content": "x", "nonce": "n" * 26}, 50035),
]


@pytest.mark.parametrize(("what", "kwargs", "code"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_messages_beyond_discords_limits_are_refused(
    harness: DiscordRig, what: str, kwargs: dict[str, Any], code: int
) -> None:
    with pytest.raises(discord.HTTPException) as err:
        await channel(harness).send(**kwargs)
    assert err.value.code == code
    assert harness.fake.posts(harness.channel_id) == []


async def test_eleven_embeds_are_refused(harness: DiscordRig) -> None:
    assert harness.app.discord is not None
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=harness.channel_id)
    body = {"embeds": [{"description": "d"}] * 11}
    with pytest.raises(discord.HTTPException) as err:  # discord.py refuses this itself; the fake too
        await harness.app.discord.client.http.request(route, json=body)
    assert err.value.code == 50035


ROW: dict[str, Any] = {"type": 1, "components": [{"type": 2, "style": 1, "label": "ok", "custom_id": "a"}]}
BAD_COMPONENTS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "six rows",
        [{"type": 1, "components": [{**ROW["components"][0], "custom_id": f"r{n}"}]} for n in range(6)],
    ),
    ("a repeated custom_id", [ROW, ROW]),
    ("a label over 80", [{"type": 1, "components": [{**ROW["components"][0], "label": "l" * 81}]}]),
    ("a custom_id over 100", [{"type": 1, "components": [{**ROW["components"][0], "custom_id": "c" * 101}]}]),
    (
        "26 options",
        [
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "s",
                        "options": [{"label": f"o{n}", "value": f"o{n}"} for n in range(26)],
                    }
                ],
            }
        ],
    ),
]


@pytest.mark.parametrize(("what", "rows"), BAD_COMPONENTS, ids=[b[0] for b in BAD_COMPONENTS])
async def test_components_beyond_discords_limits_are_refused(
    harness: DiscordRig, what: str, rows: list[dict[str, Any]]
) -> None:
    assert harness.app.discord is not None
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=harness.channel_id)
    with pytest.raises(discord.HTTPException) as err:
        await harness.app.discord.client.http.request(route, json={"content": "x", "components": rows})
    assert err.value.code == 50035


async def test_6000_across_embeds_and_whitespace_not_counted_are_accepted(harness: DiscordRig) -> None:
    await channel(harness).send(embeds=[embed("d" * 4000 + "   "), embed("d" * 2000)])
    assert len(harness.fake.posts(harness.channel_id)) == 1


async def test_a_repeated_nonce_returns_the_first_message(harness: DiscordRig) -> None:
    first = await channel(harness).send("once", nonce="n1")
    again = await channel(harness).send("once", nonce="n1")
    assert first.id == again.id and len(harness.fake.posts(harness.channel_id)) == 1


async def test_a_nonce_is_enforced_only_for_a_few_minutes(harness: DiscordRig) -> None:
    now = [1000.0]
    harness.fake.nonce_clock = lambda: now[0]
    first = await channel(harness).send("once", nonce="n2")
    now[0] += NONCE_SECONDS + 1  # "checked for uniqueness in the past few minutes": no longer
    again = await channel(harness).send("once", nonce="n2")
    assert first.id != again.id and len(harness.fake.posts(harness.channel_id)) == 2


async def test_a_wrong_token_is_refused_with_401(harness: DiscordRig) -> None:
    harness.fake.token = "revoked"
    with pytest.raises(discord.HTTPException) as err:
        await channel(harness).send("hello")
    assert err.value.status == 401


async def test_an_unknown_route_answers_501_and_is_recorded(harness: DiscordRig) -> None:
    assert harness.app.discord is not None
    with pytest.raises(discord.HTTPException) as err:
        route = Route("GET", "/channels/{channel_id}/pins", channel_id=harness.channel_id)
        await harness.app.discord.client.http.request(route)
    assert err.value.status == 501
    assert harness.fake.unknown == [f"GET /channels/{harness.channel_id}/pins"]
    harness.fake.unknown.clear()  # the fixture would fail this test otherwise


async def test_forum_rules(fake: FakeDiscord, harness: DiscordRig) -> None:
    forum = fake.add_forum_channel("inbox", tags=("refund",), require_tag=True)
    assert harness.app.discord is not None
    http = harness.app.discord.client.http
    with pytest.raises(discord.HTTPException) as err:
        await channel(harness, forum).send("hi")
    assert err.value.code == 40058
    made = await harness.app.discord.client.fetch_channel(forum)
    assert isinstance(made, discord.ForumChannel)
    with pytest.raises(discord.HTTPException) as err:
        await made.create_thread(name="post", content="hi")
    assert err.value.code == 40067
    refund = made.get_tag(int(fake.tag_id(forum, "refund")))
    assert refund is not None
    post = await made.create_thread(name="post", content="hi", applied_tags=[refund])
    with pytest.raises(discord.HTTPException) as err:
        await http.edit_channel(post.thread.id, applied_tags=[])
    assert err.value.code == 40067


async def test_archived_and_locked_threads_and_the_active_thread_cap(harness: DiscordRig) -> None:
    assert harness.app.discord is not None
    parent = await harness.app.discord.client.fetch_channel(harness.channel_id)
    assert isinstance(parent, discord.TextChannel)
    thread = await parent.create_thread(name="t", type=discord.ChannelType.public_thread)
    message = await thread.send("first")
    harness.fake.archive(thread.id)
    with pytest.raises(discord.HTTPException) as err:
        await message.edit(content="edited")
    assert err.value.code == 50083
    with pytest.raises(discord.HTTPException) as err:
        await message.add_reaction("✅")
    assert err.value.code == 50083
    await thread.send("unarchives")  # sending unarchives an unlocked thread
    assert not harness.fake.archived(thread.id)
    harness.fake.archive(thread.id, locked=True)
    with pytest.raises(discord.HTTPException) as err:
        await thread.send("refused")
    assert err.value.code == 160005
    await message.delete()  # deleting is allowed in an archived thread
    harness.fake.active_thread_limit = 0
    with pytest.raises(discord.HTTPException) as err:
        await parent.create_thread(name="t2", type=discord.ChannelType.public_thread)
    assert err.value.code == 160006


async def test_only_the_bots_own_messages_can_be_edited(harness: DiscordRig) -> None:
    mid = harness.fake.snowflake()
    harness.fake.receive(
        {"id": str(mid), "channel_id": str(harness.channel_id), "author": {"id": "4242"}, "content": "hi"}
    )
    with pytest.raises(discord.Forbidden) as err:
        await channel(harness).get_partial_message(mid).edit(content="edited by the bot")
    assert err.value.code == 50005 and harness.fake.messages[mid]["content"] == "hi"
    own = await channel(harness).send("card")
    await own.edit(content="card, edited")
    assert harness.fake.messages[own.id]["content"] == "card, edited"
