"""A card's thread created just before a crash is adopted, not created again.

Creating a thread (``POST /channels/{id}/threads``, also a forum post with its starter message) takes
no nonce, so an attempt that died between Discord's answer and the outbox recording it would open a
second thread on retry. Before re-creating the card of a row that was claimed before
(``DeliveryKey.retried``), the surface lists the guild's active threads (``GET
/guilds/{guild.id}/threads/active``, Guild resource "List Active Guild Threads": every active thread of
the guild, public and private, as channel objects with ``parent_id``, ``owner_id`` and ``name``, newest
id first) and adopts the newest one in the inbox channel that the bot opened and whose name carries
the conversation's marker (``#<number> · ``, ``render.thread_name``) and that is not older than the
outbox row (``DeliveryKey.queued_at``): a thread id is a snowflake whose top 42 bits are its creation
time in milliseconds since the Discord epoch (Reference, "Snowflakes"), so the conversation's earlier
card thread, still active after a resync opened a new card, is never adopted (a new one is opened, the
safe side: at worst a second thread, never a card in the wrong one). A forum post's starter message
has the thread's id (Channel resource, "Start Thread in Forum or Media Channel": the thread and its
starter message); in a text channel the card is the bot's first message with an embed, read from the
thread's history, or absent when the attempt died before posting it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord

from adapters.discord.bridge import NONE
from bot.ports import ThreadRef
from bot.views import CardView

__all__ = ["Adopted", "adopt_thread", "find_thread", "marker"]

log = logging.getLogger(__name__)

_HISTORY = 10  # messages read back from an adopted text-channel thread: the card is among the first
_CLOCK_SKEW = timedelta(seconds=5)  # Discord's clock against ours, when comparing a thread's age to a row's


@dataclass(frozen=True)
class Adopted:
    """A thread an earlier attempt opened: its id and its card's message id ("" when it has none)."""

    thread_id: str
    card_id: str


def marker(number: int) -> str:
    """How a card's thread name begins: the conversation's number (``#42 · ``)."""
    return f"#{number} · "


async def find_thread(
    http: discord.http.HTTPClient,
    channel: discord.abc.GuildChannel,
    number: int,
    bot_id: int,
    forum: bool,
    since: datetime | None = None,
) -> Adopted | None:
    """The thread an earlier attempt at this card opened in ``channel``, or None (then create one).

    ``since``: when the card's row was queued; a thread created before it is another card's."""
    listed: dict[str, Any] = dict(await http.get_active_threads(channel.guild.id))
    oldest = None if since is None else since - _CLOCK_SKEW
    threads = [
        t
        for t in listed.get("threads") or []
        if str(t.get("parent_id")) == str(channel.id)
        and str(t.get("owner_id")) == str(bot_id)
        and str(t.get("name", "")).startswith(marker(number))
        and (oldest is None or discord.utils.snowflake_time(int(t["id"])) >= oldest)
    ]
    if not threads:
        return None
    newest = max(threads, key=lambda t: int(t["id"]))
    thread_id = str(newest["id"])
    if forum:  # a forum post's starter message is the card and has the thread's id
        return Adopted(thread_id, thread_id)
    history = await http.logs_from(int(thread_id), _HISTORY, after=0)
    cards = [m for m in history if str((m.get("author") or {}).get("id")) == str(bot_id) and m.get("embeds")]
    first = min(cards, key=lambda m: int(m["id"])) if cards else None
    return Adopted(thread_id, str(first["id"]) if first else "")


async def adopt_thread(
    client: discord.Client,
    channel: discord.TextChannel | discord.ForumChannel,
    card: CardView,
    embed: discord.Embed,
    view: discord.ui.View,
) -> ThreadRef | None:
    """The thread an earlier attempt at this card opened, its card shown as it is now (posted when the
    attempt died before posting it); None when there is none."""
    assert client.user is not None  # the surface is ready
    forum = isinstance(channel, discord.ForumChannel)
    since = card.delivery.queued_at if card.delivery is not None else None
    found = await find_thread(client.http, channel, card.number, client.user.id, forum, since)
    if found is None:
        return None
    thread = client.get_partial_messageable(int(found.thread_id))
    if found.card_id:
        await thread.get_partial_message(int(found.card_id)).edit(embed=embed, view=view)
        card_id = found.card_id
    else:
        card_id = str((await thread.send(embed=embed, view=view, allowed_mentions=NONE)).id)
    log.warning(
        "discord thread of an earlier attempt adopted",
        extra={"conversation": card.number, "thread_id": found.thread_id},
    )
    return ThreadRef(str(channel.id), found.thread_id, card_id)
