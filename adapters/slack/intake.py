"""Slack intake channels: customers who write in a Slack channel (a help channel, a Slack Connect one).

A top-level ``message`` in a configured channel (``[[surfaces.slack.intake_channels]]``)
opens a conversation in its inbox; the customer's replies in that message's thread
(``thread_ts`` = the root's ``ts``) continue it
(https://docs.slack.dev/reference/events/message, https://docs.slack.dev/messaging#threading).
Each event is journaled before it is acknowledged, then handed to the core's chat intake
(``bot.ingest.chat_intake``: opt-out, pleasantries, grouping), so the same ingest, rules and
outbox serve it. The team works the conversation in the inbox's staff thread, never in front
of the customer; ``reply`` answers in the customer's thread (``chat.postMessage`` with
``thread_ts``), as this module's ``ChannelSender`` for channel ``slack``.

The sender's identity is their Slack user id; in a Slack Connect channel the event names the
customer's organisation (``user_team``, else ``team``;
https://docs.slack.dev/apis/slack-connect/#events); when it is not the app's own workspace (the
event callback's ``team_id``) its name (``team.info``, asked once per organisation; its id when
Slack will not say) is kept as the message's ``account`` and shown on the card.
Customers' edits (``message_changed``) and deletions (``message_deleted``) are mirrored to
the staff thread. Our own posts (``bot_id``) and messages of the team's agents are never
taken in. Reading these channels needs ``channels:history`` (public) or ``groups:history``
(private) and the bot in the channel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.files import fetch_files
from adapters.slack.inbound import CustomerReplay, SlackInbound
from adapters.slack.render import escape
from adapters.slack.settings import IntakeChannel
from adapters.slack.surface import SlackSurface
from bot.clock import Clock
from bot.ingest.chat_intake import ChatIntake
from bot.ports import PermanentDeliveryError, SentParts, SurfaceRefused
from bot.ports.inbound import InboundMessage
from bot.views import OutboundView

__all__ = ["CHANNEL", "SlackIntake", "inbound_message", "is_dm", "journal_event"]

log = logging.getLogger(__name__)

CHANNEL = "slack"
"""The customer channel name of intake-channel conversations (``inboxes.NAME.channel``)."""
_TAKEN = (None, "file_share", "thread_broadcast")


def _ref(channel: str, ts: str) -> str:
    """A Slack message's external id: unique across channels."""
    return f"{channel}:{ts}"


class SlackIntake:
    """Takes in customers' messages of the intake channels and sends replies into their threads.

    Built by the composition root before the adapter and handed to its inbound half, which routes
    the intake channels' events and journal entries here (``channels``, ``on_event``, ``replayers``).
    """

    channel = CHANNEL

    def __init__(
        self,
        surface: Callable[[], SlackSurface],
        channels: list[IntakeChannel],
        intake: ChatIntake,
        clock: Clock,
    ) -> None:
        self.surface = surface  # the adapter's surface (built after this)
        self.inboxes = {c.channel: c.inbox for c in channels}
        self.intake = intake
        self.clock = clock
        self._in_order = asyncio.Lock()  # the journal runs a batch at once: messages go in in its order

    def replayers(self) -> dict[str, CustomerReplay]:
        """The journal entry kinds this side replays."""
        return {
            "intake": self._replay_message,
            "intake_edit": self._replay_edit,
            "intake_delete": self._replay_delete,
        }

    # --- events in --------------------------------------------------------------------------

    async def on_event(self, inbound: SlackInbound, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Journal a customer's message, edit or deletion (called before the ack)."""
        await journal_event(inbound, "intake", body, event)

    async def _replay_message(self, inbound: SlackInbound, work: dict[str, Any], journal_id: int) -> None:
        event = work["event"]
        channel, ts, thread_ts = str(event["channel"]), str(event["ts"]), event.get("thread_ts")
        async with self._in_order:
            message = await inbound_message(inbound, work, self.inboxes[channel], self.clock, journal_id)
            if thread_ts and thread_ts != ts:
                message = dataclasses.replace(message, thread_refs=(_ref(channel, str(thread_ts)),))
            await self.intake.receive(message, team_surface="slack")  # agents answer in the staff thread

    async def _replay_edit(self, inbound: SlackInbound, work: dict[str, Any], journal_id: int) -> None:
        event = work["event"]
        message = event.get("message") or {}
        text = await inbound.plain(str(message.get("text") or ""))
        await self.intake.mirror_edit(
            CHANNEL, _ref(str(event["channel"]), str(message["ts"])), text, journal_id
        )

    async def _replay_delete(self, inbound: SlackInbound, work: dict[str, Any], journal_id: int) -> None:
        event = work["event"]
        ref = _ref(str(event["channel"]), str(event["deleted_ts"]))
        await self.intake.mirror_delete(CHANNEL, ref, journal_id)

    # --- replies out (ChannelSender) --------------------------------------------------------

    async def send(self, message: OutboundView, parts: SentParts) -> str:
        """Post the reply in the customer's thread (the conversation's first message is its root), or
        into the DM for a conversation of DMs; a reply recorded in ``parts`` (posted before a
        restart) is not posted again."""
        root = next((r for r in message.thread_refs if ":" in r), None)
        if root is None:
            raise PermanentDeliveryError("the conversation has no Slack thread to answer in")
        channel, _, root_ts = root.partition(":")
        thread_ts = None if is_dm(channel) else root_ts  # a DM is answered in the DM itself
        if (done := parts.sent(0)) is not None:
            return done
        surface = self.surface()
        try:
            answer = await surface.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=escape(message.text),
                unfurl_links=False,
                unfurl_media=False,
            )
            await parts.record(0, _ref(channel, str(answer["ts"])))
            files = [a for a in message.attachments if a.data is not None]
            if files:
                await surface.client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_ts,
                    file_uploads=[
                        {"content": a.data, "filename": a.filename, "title": a.filename} for a in files
                    ],
                )
        except Exception as exc:
            error = surface.auth.failed(exc)
            if isinstance(error, SurfaceRefused) and error.scope == "channel":
                # the customer's channel or DM, not a staff channel: this reply fails, the threads stay
                code = str(exc.response.get("error")) if isinstance(exc, SlackApiError) else "refused"
                where = (
                    "the member's DM (they left the workspace, or it is gone)" if is_dm(channel) else channel
                )
                raise PermanentDeliveryError(f"Slack cannot post to {where} ({code})") from exc
            raise error from exc
        surface.auth.succeeded()
        return _ref(channel, str(answer["ts"]))

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept here (the replies are in the Slack channel)."""
        return 0


async def journal_event(
    inbound: SlackInbound, kind: str, body: dict[str, Any], event: dict[str, Any]
) -> None:
    """Journal a customer's message as ``kind``, their edit as ``intake_edit`` and their deletion as
    ``intake_delete`` (before the ack); our own posts and other subtypes are left out."""
    subtype, key = event.get("subtype"), body.get("event_id")
    if subtype in _TAKEN and event.get("user") and not event.get("bot_id"):
        await inbound.journaled(kind, {"event": event, "workspace": body.get("team_id")}, key)
    elif subtype == "message_changed" and _person(event.get("message") or {}):
        await inbound.journaled("intake_edit", {"event": event}, key)
    elif subtype == "message_deleted" and _person(event.get("previous_message") or {}):
        await inbound.journaled("intake_delete", {"event": event}, key)


def is_dm(channel: str) -> bool:
    """Whether a Slack conversation id is a DM's: their ids start with ``D``
    (https://docs.slack.dev/reference/objects/conversation-object, "is_im")."""
    return channel.startswith("D")


async def inbound_message(
    inbound: SlackInbound, work: dict[str, Any], inbox: str, clock: Clock, journal_id: int
) -> InboundMessage:
    """A journaled customer ``message`` event (``work["event"]``) as the core's ``InboundMessage``:
    the sender by user id and name, the text decoded, shared files read, the organisation kept."""
    event = work["event"]
    channel, ts, user = str(event["channel"]), str(event["ts"]), str(event["user"])
    person = await inbound.directory.person(user)
    text = await inbound.plain(str(event.get("text") or ""))
    files = await fetch_files(event.get("files") or [], str(inbound.client.token or ""))
    team = event.get("user_team") or event.get("team")
    account = None  # one of our own workspace's people: no other organisation to name
    if team and team != work.get("workspace"):
        account = await inbound.directory.organisation(str(team))  # its name, kept with the message
    return InboundMessage(
        channel=CHANNEL,
        inbox=inbox,
        external_id=_ref(channel, ts),
        sender_address=user,
        sender_name=person.name,
        received_at=clock.now(),
        text=text,
        subject=(text.strip().splitlines() or ["Slack message"])[0][:120] or "Slack message",
        attachments=files,
        extra={"account": str(account)} if account else {},
        journal_id=journal_id,
    )


def _person(message: dict[str, Any]) -> bool:
    """A person's message (not a bot's, not ours)."""
    return bool(message.get("user")) and not message.get("bot_id")
