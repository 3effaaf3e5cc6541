"""Reactions as commands on Slack: ``reaction_added`` (and ``reaction_removed``) events to the core.

Slack sends ``{"type": "reaction_added", "user", "reaction", "item_user", "item": {"type":
"message", "channel", "ts"}, "event_ts"}`` (https://api.slack.com/events/reaction_added, scope
``reactions:read``; ``reaction_removed`` has the same shape, https://api.slack.com/events/reaction_removed).
Like every Slack event the listener journals it first and only then acknowledges
(``SlackInbound.journaled``, keyed by ``event_id``, so HTTP retries and Socket Mode redeliveries
are journaled once). The replay translates it into the core's ``Reaction`` command: the emoji as
its character (Slack sends short names: ``eyes`` → 👀; one without a character here stays
``:name:``) with its short name (so ``":eyes:" = "claim"`` works too), and the reacted
message's ts as both the thread to look in (a card's ts is its thread's) and the item to look
for (a message posted in a thread). The event never names the reacted message's thread, only the
message (``item.ts``) and its author (``item_user``): on a message someone else wrote (a
teammate's own message in a staff thread) the replay asks Slack for it with
``conversations.replies`` (``ts`` may be "a thread's parent message or a message in the thread";
the message returned carries ``thread_ts``, https://docs.slack.dev/reference/methods/conversations.replies,
scope ``channels:history`` / ``groups:history``) and looks in that thread. The core decides what the
emoji means (``[reactions]``); only a refusal is answered, ephemerally. Reactions of bots (ours
included), of people who may not act and on files are ignored without an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.inbound import SlackInbound
from bot.commands import Location, ParsedCommand
from bot.commands.model import Reaction

__all__ = ["SHORT_NAMES", "SlackReactions", "emoji_of"]

log = logging.getLogger(__name__)


SHORT_NAMES: dict[str, str] = {
    "eyes": "👀",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "ballot_box_with_check": "☑",
    "rotating_light": "🚨",
    "repeat": "🔁",
    "arrows_counterclockwise": "🔄",
    "fire": "🔥",
    "warning": "⚠",
    "exclamation": "❗",
    "x": "❌",
    "zzz": "💤",
    "pushpin": "📌",
    "memo": "📝",
    "raising_hand": "🙋",
    "hand": "✋",
    "raised_hand": "✋",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "clipboard": "📋",
    "money_with_wings": "💸",
    "moneybag": "💰",
    "bug": "🐛",
    "star": "⭐",
    "heart": "❤",
    "tada": "🎉",
    "wave": "👋",
}
"""Slack short names of the emoji a team is likely to map, and their characters."""


def emoji_of(reaction: str) -> str:
    """Slack's reaction name as the core compares it: the character, else ``:name:`` (skin tone dropped)."""
    name = reaction.split("::", 1)[0]
    return SHORT_NAMES.get(name, f":{name}:")


class SlackReactions:
    """Registers the reaction listeners on the inbound half's bolt app."""

    def __init__(self, inbound: SlackInbound) -> None:
        self.inbound = inbound
        inbound.app.event("reaction_added")(self._on_added)
        inbound.app.event("reaction_removed")(self._on_removed)
        inbound.replayers["reaction"] = self._replay

    async def _on_added(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        await self._journal(body)
        await ack()

    async def _on_removed(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        await self._journal(body)
        await ack()

    async def _journal(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        item = event.get("item") or {}
        bots = {a.get("user_id") for a in body.get("authorizations") or [] if a.get("is_bot")}
        if item.get("type") != "message" or not event.get("user") or event.get("user") in bots:
            return
        if self.inbound.chat_channels and item.get("channel") not in self.inbound.chat_channels:
            return
        key = body.get("event_id") or f"{event.get('type')}:{item.get('ts')}:{event.get('user')}"
        await self.inbound.journaled("reaction", {"event": event, "bots": sorted(filter(None, bots))}, key)

    async def _replay(self, work: dict[str, Any], journal_id: int) -> None:
        event = work["event"]
        item, user_id = event["item"], str(event["user"])
        channel, ts = str(item.get("channel")), str(item.get("ts"))
        actor = await self.inbound.acting(user_id, None)
        if actor is None:
            return  # not an agent: their reactions are no commands, and need no answer
        name = str(event.get("reaction") or "").split("::", 1)[0]
        removed = event.get("type") == "reaction_removed"
        reaction = Reaction(emoji_of(name), removed, short_name=f":{name}:")
        ours = event.get("item_user") in set(work.get("bots") or ())
        thread = ts if ours else await self._thread_of(channel, ts)
        where = Location("slack", thread_id=thread, item_id=ts, journal_id=journal_id)
        reply = await self.inbound.execute(actor, ParsedCommand(reaction), where)
        if not reply.ok:
            await self.inbound.answer(self.inbound.reply_text(reply), channel=channel, user=user_id)

    async def _thread_of(self, channel: str, ts: str) -> str:
        """The thread of message ``ts`` (its own ts for a top-level or vanished message).

        Another failure (rate limit, outage) propagates: the journal replays the reaction later."""
        try:
            answer = await self.inbound.client.conversations_replies(channel=channel, ts=ts, limit=1)
        except SlackApiError as exc:
            if exc.response.get("error") == "thread_not_found":  # deleted since: no thread to look in
                return ts
            raise
        messages = answer.get("messages") or []
        return str(messages[0].get("thread_ts") or ts) if messages else ts
