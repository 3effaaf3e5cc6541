"""The Slack surface, inbound half: slash command and thread messages, handed to the core as commands.

Every listener commits its work to the intake journal (``bot.ingest.journal``, group-committed)
and only then acknowledges (Slack wants an answer within 3 s: "Acknowledge the event within
3 seconds", api.slack.com/apis/events-api#responding; Socket Mode: acknowledge each envelope,
api.slack.com/apis/socket-mode#acknowledge). The journal worker replays the work; the
command's transaction marks the entry done (``Location.journal_id``). If the work cannot be
journaled the listener fails, nothing is acknowledged, and Slack retries. ``settle()`` waits
for acknowledged work (tests, shutdown). Thread messages: ``!claim`` and friends are
commands, a plain message is handed to the core, which makes it an internal note (or
ignores it, per inbox). Text arrives in Slack's wire format and is decoded once here
(``adapters.slack.wire.decode``), so the core, the customer's mail and the thread echo get
exactly what the agent typed. Messages of bots (ours included) are ignored; edits and
deletions go to the listeners in ``subtypes`` (``adapters.slack.edits``). Events API retries
and Socket Mode redeliveries carry the same ``event_id``, the journal's key, so they are
journaled once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.files import fetch_files
from adapters.slack.people import Directory
from adapters.slack.render import escape
from adapters.slack.slash import missing_number, slash_help
from adapters.slack.surface import SlackSurface
from adapters.slack.wire import decode, unnamed_users
from bot.commands import Actor, CommandPort, Location, ParsedCommand
from bot.commands.grammar import names_agents
from bot.ingest.journal import BadEntry, Journal, JournalItem
from bot.ports.inbound import InboundAttachment
from bot.views import Reply

__all__ = [
    "JOURNAL_SOURCE",
    "AgentRegistrar",
    "CustomerReplay",
    "CustomerSide",
    "LabelSource",
    "Replay",
    "SlackInbound",
]

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_HANDLED_SUBTYPES = (None, "file_share", "thread_broadcast")


Replay = Callable[[dict[str, Any], int], Awaitable[None]]
"""Runs one journaled piece of Slack work (its JSON fields, the journal entry's id)."""
CustomerReplay = Callable[["SlackInbound", dict[str, Any], int], Awaitable[None]]
"""A customer side's replay: the inbound half it runs in, the journaled work, its journal id."""
JOURNAL_SOURCE = "slack"
"""The intake journal's source name of acknowledged Slack work."""
LabelSource = Callable[[], Awaitable[list[str]]]
"""Returns the existing label names (for the card's Labels menu)."""
AgentRegistrar = Callable[[Actor], Awaitable[None]]
"""Makes sure a Slack user is an agent (so ``assign`` can find someone who never acted yet)."""


class CustomerSide(Protocol):
    """Customers who write in Slack (intake channels: ``adapters.slack.intake``; DMs to the app:
    ``adapters.slack.dms``): what their message events and journal entries are handed to."""

    def replayers(self) -> dict[str, CustomerReplay]:
        """The journal entry kinds this side replays."""
        ...

    async def on_event(self, inbound: SlackInbound, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Journal a customer's message event (called before the ack)."""
        ...


class SlackInbound:
    """Registers Threadline's listeners on a bolt ``AsyncApp`` and runs them against the core."""

    def __init__(
        self,
        app: AsyncApp,
        surface: SlackSurface,
        directory: Directory,
        *,
        command: str,
        prefix: str,
        commands: CommandPort,
        journal: Journal,
        labels: LabelSource,
        register: AgentRegistrar,
        chat_channels: Iterable[str] = (),
        intake: CustomerSide | None = None,
        intake_channels: Iterable[str] = (),
        dms: CustomerSide | None = None,
    ) -> None:
        """``intake`` takes the message events of ``intake_channels`` (customers' channels, never staff
        threads) and ``dms`` those of members' DMs to the app; both replay their journal entries."""
        self.app = app
        self.surface = surface
        self.client = surface.client
        self.directory = directory
        self.prefix = prefix
        self.command = command
        self.chat_channels = frozenset(chat_channels)
        self.commands = commands  # the core's command port
        self.journal = journal  # work is committed here before Slack is acknowledged
        self.replayers: dict[str, Replay] = {"command": self._replay_command, "message": self._replay_message}
        for side in (intake, dms):
            for kind, replay in (side.replayers() if side is not None else {}).items():
                self.replayers[kind] = functools.partial(replay, self)
        # message events of other subtypes and their listener (edits and deletions: adapters.slack.edits)
        self.subtypes: dict[str, Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]] = {}
        # message events of customers' channels and who takes them (intake channels: adapters.slack.intake)
        self.by_channel: dict[str, CustomerSide] = dict.fromkeys(intake_channels, intake) if intake else {}
        # who takes message events of members' DMs to the app (adapters.slack.dms), if they are taken in
        self.direct = dms
        self.labels = labels
        self.register = register
        self._tasks: set[asyncio.Task[Any]] = set()
        app.command(command)(self._on_command)
        app.event("message")(self._on_message)
        journal.handle(JOURNAL_SOURCE, self._replay)

    # --- plumbing ------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run work after the ack; failures are logged and told to nobody but the log."""

        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("slack work failed", extra={"work": what})

        task = asyncio.create_task(guarded(), name=f"slack-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until all acknowledged work has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.journal.idle()

    async def journaled(
        self, kind: str, work: dict[str, Any], key: str | None = None, channel: str | None = None
    ) -> None:
        """Commit a piece of work to the intake journal; call before the ack (raises when it cannot be).

        The work of one Slack channel (``channel``, else the one the work names) is processed in the
        order it was journaled: a `!claim` then a `!close` typed quickly in a thread stay in that order.
        """
        payload = json.dumps({"kind": kind, **work}).encode()
        order = channel or _channel_of(work)
        await self.journal.record(JOURNAL_SOURCE, payload, f"{kind}:{key}" if key else None, order=order)

    async def _replay(self, item: JournalItem) -> None:
        try:
            work = json.loads(item.payload)
            replay = self.replayers[str(work["kind"])]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadEntry(f"not a Slack journal entry Threadline knows ({exc.__class__.__name__})") from exc
        await replay(work, item.id)

    async def run(
        self,
        actor: Actor,
        text: str,
        where: Location,
        *,
        prefixed: bool,
        files: tuple[InboundAttachment, ...] = (),
    ) -> Reply:
        """Hand a command line to the core."""
        return await self.commands.handle(actor, text, where, prefixed=prefixed, files=files)

    async def execute(self, actor: Actor, parsed: ParsedCommand, where: Location) -> Reply:
        """Hand the core a command built from a button or a modal (never rebuilt as text)."""
        return await self.commands.execute(actor, parsed, where)

    async def acting(self, user_id: str, name: str | None) -> Actor | None:
        """The actor for ``user_id``, or None when they are not allowed to act."""
        if not await self.directory.may_act(user_id):
            log.info("slack user refused", extra={"user": user_id})
            return None
        return await self.directory.actor(user_id, name)

    async def plain(self, wire: str, *, command: bool = False) -> str:
        """Slack's wire text as plain text; users stay ``@U123`` in a command the core says names agents."""
        user_ids = command and names_agents(wire, self.prefix)
        names = {} if user_ids else {u: (await self.directory.person(u)).name for u in unnamed_users(wire)}
        return decode(wire, names, user_ids=user_ids)

    async def register_mentioned(self, text: str) -> None:
        """Make mentioned teammates agents first (the command names them, ``names_agents``), so they can
        be picked before they ever acted."""
        for user_id in dict.fromkeys(_MENTION.findall(text)):
            if await self.directory.may_act(user_id):
                await self.register(await self.directory.actor(user_id))

    async def answer(
        self,
        text: str,
        *,
        response_url: str | None = None,
        channel: str | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """Show ``text`` to one user only: through the response URL, else ``chat.postEphemeral``."""
        if not text:
            return
        try:
            if response_url:
                await AsyncWebhookClient(response_url).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            elif channel and user:
                await self.client.chat_postEphemeral(
                    channel=channel, user=user, text=text, thread_ts=thread_ts
                )
        except Exception as exc:
            log.warning("slack ephemeral answer failed", extra={"error": exc.__class__.__name__})

    @staticmethod
    def reply_text(reply: Reply) -> str:
        """A core reply as Slack text: escaped (it may quote customer subjects), errors marked."""
        return ("" if reply.ok else ":warning: ") + escape(reply.text) if reply.text else ""

    # --- slash command ---------------------------------------------------------------------------

    async def _on_command(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        await self.journaled("command", {"body": body}, body.get("trigger_id"))
        await ack()

    async def _replay_command(self, work: dict[str, Any], journal_id: int) -> None:
        await self._slash(work["body"], journal_id)

    async def _slash(self, body: dict[str, Any], journal_id: int) -> None:
        user_id, url = body.get("user_id", ""), body.get("response_url")
        actor = await self.acting(user_id, body.get("user_name"))
        if actor is None:
            await self.answer(
                self.directory.refusal(), response_url=url, channel=body.get("channel_id"), user=user_id
            )
            return
        text = (await self.plain((body.get("text") or "").strip(), command=True)) or "help"
        words = text.split()
        own = missing_number(self.command, text, self.prefix)  # our words, not the core's (no thread here)
        if words[0].lower() in ("help", "?"):
            own = slash_help(self.command, words[1].lower() if len(words) > 1 else None, self.prefix)
        if own is not None:
            await self.answer(own, response_url=url, channel=body.get("channel_id"), user=user_id)
            return
        if names_agents(text):
            await self.register_mentioned(body.get("text") or "")
        reply = await self.run(actor, text, Location("slack", journal_id=journal_id), prefixed=False)
        await self.answer(
            self.reply_text(reply), response_url=url, channel=body.get("channel_id"), user=user_id
        )

    # --- thread messages -----------------------------------------------------------------------

    async def _on_message(
        self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], event: dict[str, Any]
    ) -> None:
        thread_ts = event.get("thread_ts")
        if (taker := self.by_channel.get(str(event.get("channel")))) is not None:
            await taker.on_event(self, body, event)  # a customer's channel: never a staff thread
        elif event.get("channel_type") == "im" and self.direct is not None:
            await self.direct.on_event(self, body, event)  # a member's DM to the app: a customer's too
        elif (listener := self.subtypes.get(str(event.get("subtype")))) is not None:
            await listener(body, event)  # journals its work first, like the rest
        elif (
            event.get("subtype") in _HANDLED_SUBTYPES
            and not event.get("bot_id")
            and event.get("user")
            and thread_ts
            and thread_ts != event.get("ts")
            and (not self.chat_channels or event.get("channel") in self.chat_channels)
        ):
            key = body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"
            await self.journaled("message", {"body": body, "event": event, "thread_ts": thread_ts}, key)
        await ack()

    async def _replay_message(self, work: dict[str, Any], journal_id: int) -> None:
        await self._message(work["event"], str(work["thread_ts"]), journal_id)

    async def _message(self, event: dict[str, Any], thread_ts: str, journal_id: int) -> None:
        channel, user_id, text = str(event.get("channel")), str(event["user"]), str(event.get("text") or "")
        command = text.lstrip().startswith(self.prefix)
        actor = await self.acting(user_id, None)
        if actor is None:
            await self.answer(self.directory.refusal(), channel=channel, user=user_id, thread_ts=thread_ts)
            return
        if command and names_agents(text, self.prefix):
            await self.register_mentioned(text)
        elif not command and not text.strip():
            return
        text = await self.plain(text, command=command)
        where = Location(
            "slack", thread_id=thread_ts, typed_in_thread=True, journal_id=journal_id, message_ref=event["ts"]
        )
        verb = text.lstrip()[len(self.prefix) :].split(maxsplit=1)[:1] if command else []
        files: tuple[InboundAttachment, ...] = ()
        if verb and verb[0].lower() == "reply" and event.get("files"):
            files = await fetch_files(event["files"], str(self.client.token or ""))
        reply = await self.run(actor, text, where, prefixed=True, files=files)
        if not command and (reply.ok or reply.conversation_number is None):
            return  # a note (shown by the message itself) or chatter in a thread that is not a conversation
        await self.answer(self.reply_text(reply), channel=channel, user=user_id, thread_ts=thread_ts)


def _channel_of(work: dict[str, Any]) -> str | None:
    """The Slack channel a piece of work happened in: an event's, a slash command's, a click's, a modal's."""
    event, body, meta = (_part(work, name) for name in ("event", "body", "meta"))
    for found in (
        event.get("channel"),
        _part(event, "item").get("channel"),
        body.get("channel_id"),
        _part(body, "channel").get("id"),
        _part(body, "container").get("channel_id"),
        meta.get("channel"),
    ):
        if found:
            return str(found)[:200]
    return None


def _part(work: dict[str, Any], name: str) -> dict[str, Any]:
    value = work.get(name)
    return value if isinstance(value, dict) else {}
