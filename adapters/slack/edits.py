"""Agents editing or deleting their messages in a Slack thread: handed to the core's ``AgentEdits``.

Slack sends an edit as a ``message`` event of subtype ``message_changed`` whose ``message``
is the message as it is now (``ts`` the original's, ``thread_ts`` its thread, ``edited``
who and when) with ``previous_message`` beside it
(https://docs.slack.dev/reference/events/message/message_changed/), and a deletion as
subtype ``message_deleted`` with ``deleted_ts`` and ``previous_message``
(https://docs.slack.dev/reference/events/message/message_deleted/). Both arrive for
channels the app reads with ``channels:history`` / ``groups:history``. Only edits and
deletions of people's thread replies in our inbox channels are journaled (ours, card edits
made with ``chat.update``, come with ``bot_id``); the core finds the note or held reply by
the message's ``ts`` and changes it.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.inbound import SlackInbound
from bot.commands.edits import AgentEdits

__all__ = ["SlackEdits"]


class SlackEdits:
    """Registers the edit and deletion listeners on the inbound half and replays them against the core."""

    def __init__(self, inbound: SlackInbound, edits: AgentEdits) -> None:
        self.inbound = inbound
        self.edits = edits
        inbound.subtypes.update(message_changed=self._on_changed, message_deleted=self._on_deleted)
        inbound.replayers.update(edit=self._replay_edit, delete=self._replay_delete)

    def _ours(self, event: dict[str, Any], message: dict[str, Any]) -> bool:
        """A person's thread reply (not a thread's root, not a bot's) in one of our inbox channels."""
        thread_ts, channels = message.get("thread_ts"), self.inbound.chat_channels
        return bool(
            message.get("user")
            and not message.get("bot_id")
            and thread_ts
            and thread_ts != message.get("ts")
            and (not channels or event.get("channel") in channels)
        )

    async def _on_changed(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        if not self._ours(event, message):
            return
        work = {"user": message["user"], "ts": message.get("ts"), "text": message.get("text") or ""}
        await self.inbound.journaled("edit", work, body.get("event_id"), event.get("channel"))

    async def _on_deleted(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        previous = event.get("previous_message") or {}
        if not event.get("deleted_ts") or not self._ours(event, previous):
            return
        await self.inbound.journaled(
            "delete", {"ts": event["deleted_ts"]}, body.get("event_id"), event.get("channel")
        )

    async def _replay_edit(self, work: dict[str, Any], journal_id: int) -> None:
        actor = await self.inbound.acting(str(work["user"]), None)
        if actor is None:
            return
        text = await self.inbound.plain(str(work["text"]), command=True)
        await self.edits.edited(actor, str(work["ts"]), text, journal_id)

    async def _replay_delete(self, work: dict[str, Any], journal_id: int) -> None:
        await self.edits.deleted("slack", str(work["ts"]), journal_id)
