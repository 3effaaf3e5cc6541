"""Slack DMs to the app: a member's DM opens or continues a conversation, replies go back into the DM.

A member writes to the app in its Messages tab; the app gets a ``message`` event with
``channel_type`` ``im`` and the DM's channel id (``D…``), with the ``message.im`` event and the
``im:history`` scope (https://docs.slack.dev/reference/events/message.im; the Messages tab must
be enabled and not read-only, https://docs.slack.dev/surfaces/app-home). Like every Slack event
it is journaled before it is acknowledged, then handed to the core's chat intake
(``bot.ingest.chat_intake``) for the configured inbox (``[surfaces.slack] dm_inbox``): while the
member's conversation is open every DM continues it, as Discord's DMs do. The team works it in the
inbox's staff thread; ``reply`` answers in the DM (``adapters.slack.intake.SlackIntake.send``:
``chat.postMessage`` into the ``D…`` channel, files with ``files_upload_v2``). Edits and deletions
are mirrored like those of intake channels. Members of the team may write too (an internal help
desk): a DM is never in front of anyone else, so it is taken in whoever sends it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from adapters.slack.inbound import CustomerReplay, SlackInbound
from adapters.slack.intake import inbound_message, journal_event
from bot.clock import Clock
from bot.ingest.chat_intake import ChatIntake

__all__ = ["SlackDms"]


class SlackDms:
    """Takes in members' DMs to the app for one inbox (handed to the inbound half at its construction)."""

    def __init__(self, inbox: str, intake: ChatIntake, clock: Clock) -> None:
        self.inbox = inbox
        self.intake = intake
        self.clock = clock
        self._in_order = asyncio.Lock()  # the journal runs a batch at once: DMs go in in journal order

    def replayers(self) -> dict[str, CustomerReplay]:
        """The journal entry kinds this side replays."""
        return {"dm": self._replay}

    async def on_event(self, inbound: SlackInbound, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Journal a member's DM, edit or deletion (called before the ack)."""
        await journal_event(inbound, "dm", body, event)

    async def _replay(self, inbound: SlackInbound, work: dict[str, Any], journal_id: int) -> None:
        async with self._in_order:
            message = await inbound_message(inbound, work, self.inbox, self.clock, journal_id)
            message = dataclasses.replace(message, match_open_by_contact=True)  # the DM is one channel
            await self.intake.receive(message)
