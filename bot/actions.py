"""Team actions: one command from an agent, checked and applied in one transaction (DESIGN §3).

Surfaces call ``CommandService.handle`` with the agent, the text and where it was
typed; the answer is a ``Reply`` shown to that agent. What the thread should see
(events, notes, replies, the card) goes through the outbox.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import commands as c
from bot import metrics, sla
from bot.actions_team import AGENT_HANDLERS, CONVERSATION_HANDLERS
from bot.clock import Clock
from bot.collision import collision_refusal
from bot.config import Settings
from bot.csat import request_csat
from bot.domain import DeliveryStatus, DomainError, MessageKind, Status, next_status
from bot.effects import Effects
from bot.help import help_text
from bot.listing import describe_history, describe_labels, describe_list
from bot.timespec import TimeSpecError, parse_snooze
from bot.views import Reply
from bot.windows import render_template, window_refusal
from storage import Conflict, Repository, Store
from storage.models import Agent, Conversation

__all__ = ["Actor", "CommandService", "Location"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id on a surface and the name to show."""

    surface: str
    user_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True)
class Location:
    """Where a command was typed: a surface thread, a conversation the surface has in focus, or neither."""

    surface: str
    thread_id: str | None = None
    number: int | None = None
    typed_in_thread: bool = False  # the text was posted as a message in that thread (visible to all)
    journal_id: int | None = None  # the intake journal entry this command completes (bot.journal)


class CommandService:
    """Parses and executes agent commands against the core."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, notify: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.notify = notify
        self.prefix = settings.threadline.command_prefix

    @metrics.timed_by(metrics.COMMAND_SECONDS, lambda reply: reply.ok)  # command latency metric
    async def handle(self, actor: Actor, text: str, where: Location, *, prefixed: bool = True) -> Reply:
        """Run one command line; a plain (unprefixed) thread message becomes a note when so configured."""
        if prefixed and not c.is_command(text, self.prefix):
            return await self.plain_message(actor, text, where)
        try:
            parsed = c.parse_command(text, self.prefix if prefixed else "")
        except c.CommandError as exc:
            return Reply(str(exc), ok=False)
        return await self.execute(actor, parsed, where)

    async def plain_message(self, actor: Actor, text: str, where: Location) -> Reply:
        """A thread message that is not a command: an internal note, or ignored, per inbox."""
        async with self.store.transaction() as repo:
            conversation = await self._locate(repo, None, where)
            if conversation is None:
                return Reply("Not in a conversation: name one (#42) or type help.", ok=False)
            if self.settings.inbox(conversation.inbox).thread_messages == "ignore":
                return Reply("", ok=True, conversation_number=conversation.number)
        return await self.execute(actor, c.ParsedCommand(c.Note(text.strip())), where)

    async def execute(self, actor: Actor, parsed: c.ParsedCommand, where: Location) -> Reply:
        """Execute a parsed command; refusals come back as an unsuccessful Reply, never an exception."""
        command = parsed.command
        if isinstance(command, c.Note) and where.typed_in_thread and where.thread_id is not None:
            command = dataclasses.replace(command, shown=True)
        try:
            async with self.store.transaction() as repo:
                agent = await self._agent(repo, actor)
                if agent is None:
                    return Reply(
                        "You are not a member of this support team; ask an admin to add you.", ok=False
                    )
                reply = await self._run(repo, agent, command, parsed.number, where)
                if where.journal_id is not None:  # done in the transaction of the command's effect
                    await repo.finish_journal([where.journal_id], self.clock.now())
        except DomainError as exc:
            return Reply(str(exc), ok=False, conversation_number=parsed.number)
        if reply.ok:
            self.notify()
            log.info(
                "command done",
                extra={
                    "command": type(command).__name__.lower(),
                    "conversation": reply.conversation_number,
                    "agent": agent.key,
                },
            )
        return reply

    async def _run(
        self, repo: Repository, agent: Agent, command: c.Command, number: int | None, where: Location
    ) -> Reply:
        if isinstance(command, c.Help):
            return Reply(help_text(command.topic, self.prefix))
        if isinstance(command, c.Labels):
            return Reply(describe_labels(await repo.label_usage()))
        if isinstance(command, c.ListConversations):
            return Reply(await describe_list(repo, command.which, agent))
        if type(command) in AGENT_HANDLERS:  # no conversation needed
            return await AGENT_HANDLERS[type(command)](self, repo, agent, command, number, where)
        conversation = await self._locate(repo, number, where)
        if conversation is None:
            named = number if number is not None else where.number
            if named is not None:
                return Reply(f"No conversation #{named}.", ok=False)
            return Reply("Use this inside a conversation thread, or name one: #42.", ok=False)
        handler = _HANDLERS[type(command)]
        return await handler(self, repo, agent, conversation, command)

    async def _locate(self, repo: Repository, number: int | None, where: Location) -> Conversation | None:
        if number is not None or where.number is not None:
            return await repo.conversation_by_number(number if number is not None else where.number)  # type: ignore[arg-type]
        if where.thread_id is not None:
            return await repo.conversation_by_thread(where.surface, where.thread_id)
        return None

    async def register(self, actor: Actor) -> None:
        """Make ``actor`` an agent now (when auto-registration is on), so teammates can pick them."""
        try:
            async with self.store.transaction() as repo:
                await self._agent(repo, actor)
        except Conflict:  # registered by a concurrent event first
            pass

    async def _agent(self, repo: Repository, actor: Actor) -> Agent | None:
        agent = await repo.agent_by_identity(actor.surface, actor.user_id)
        if agent is None and self.settings.threadline.auto_register_agents:
            key = f"{actor.surface}:{actor.user_id}"
            agent = await repo.upsert_agent(
                key, actor.display_name, actor.email, {actor.surface: actor.user_id}, self.clock.now()
            )
        return agent

    def _effects(self, repo: Repository, conversation: Conversation) -> Effects:
        return Effects(repo, conversation, self.settings.inbox(conversation.inbox), self.clock.now())

    # --- handlers ----------------------------------------------------------------------------

    async def _claim(self, repo: Repository, agent: Agent, conv: Conversation, _: c.Claim) -> Reply:
        if conv.assignee_id == agent.id:
            return Reply(f"#{conv.number} is already yours.", conversation_number=conv.number)
        if conv.assignee_id is not None:
            holder = await repo.agent(conv.assignee_id)
            return Reply(
                f"#{conv.number} is claimed by {holder.name}; ask them, or use assign @you to take it over.",
                ok=False,
                conversation_number=conv.number,
            )
        conv.assignee_id = agent.id
        await self._effects(repo, conv).event(
            agent.name, "claimed", f"claimed by {agent.name}", {"agent": agent.key}
        )
        return Reply(f"You claimed #{conv.number}.", conversation_number=conv.number)

    async def _assign(self, repo: Repository, agent: Agent, conv: Conversation, command: c.Assign) -> Reply:
        who = command.who.lstrip("@").strip("<>").lstrip("@")
        matches = await repo.find_agent(who)
        if not matches:
            return Reply(f"No teammate '{command.who}'. Use their name or mention.", ok=False)
        if len(matches) > 1:
            names = ", ".join(sorted(a.name for a in matches))
            return Reply(f"'{command.who}' matches several teammates ({names}); be more specific.", ok=False)
        target = matches[0]
        if conv.assignee_id == target.id:
            return Reply(
                f"#{conv.number} is already assigned to {target.name}.", conversation_number=conv.number
            )
        conv.assignee_id = target.id
        await self._effects(repo, conv).event(
            agent.name, "assigned", f"assigned to {target.name} by {agent.name}", {"agent": target.key}
        )
        return Reply(f"#{conv.number} assigned to {target.name}.", conversation_number=conv.number)

    async def _unassign(self, repo: Repository, agent: Agent, conv: Conversation, _: c.Unassign) -> Reply:
        if conv.assignee_id is None:
            return Reply(f"#{conv.number} has no assignee.", conversation_number=conv.number)
        previous = await repo.agent(conv.assignee_id)
        conv.assignee_id = None
        await self._effects(repo, conv).event(
            agent.name,
            "unassigned",
            f"unassigned from {previous.name} by {agent.name}",
            {"agent": previous.key},
        )
        return Reply(f"#{conv.number} is unassigned.", conversation_number=conv.number)

    async def _label(
        self, repo: Repository, agent: Agent, conv: Conversation, command: c.LabelChange
    ) -> Reply:
        added, removed = [], []
        for name in command.add:
            label = await repo.label(name, create=True)
            assert label is not None
            if await repo.set_label(conv.id, label.id, True):
                added.append(label.name)
        for name in command.remove:
            label = await repo.label(name, create=False)
            if label is not None and await repo.set_label(conv.id, label.id, False):
                removed.append(label.name)
        if not added and not removed:
            return Reply(f"#{conv.number}: labels unchanged.", conversation_number=conv.number)
        change = " ".join([f"+{n}" for n in added] + [f"-{n}" for n in removed])
        await self._effects(repo, conv).event(
            agent.name, "labelled", f"labels {change} by {agent.name}", {"added": added, "removed": removed}
        )
        return Reply(f"#{conv.number}: labels {change}.", conversation_number=conv.number)

    async def _note(self, repo: Repository, agent: Agent, conv: Conversation, command: c.Note) -> Reply:
        effects = self._effects(repo, conv)
        message = repo.new_message(
            conv,
            MessageKind.NOTE,
            effects.now,
            author_agent_id=agent.id,
            author_name=agent.name,
            text=command.text,
        )
        repo.audit(actor=agent.name, action="noted", now=effects.now, conversation=conv)
        if not command.shown:
            await effects.show(message)
        return Reply("Note added.", ephemeral=True, conversation_number=conv.number)

    async def _reply(self, repo: Repository, agent: Agent, conv: Conversation, command: c.Reply) -> Reply:
        refusal = window_refusal(self.settings, conv.channel, conv.last_inbound_at, self.clock.now())
        if refusal is not None:
            return Reply(refusal, ok=False, conversation_number=conv.number)
        blocked = await collision_refusal(  # assigned to someone else, or a teammate just replied
            repo,
            self.settings,
            agent,
            conv,
            self.clock.now(),
            confirm=command.confirm,
            confirm_hint=f"reply --confirm {command.text[:40]}…",
        )
        if blocked is not None:
            return blocked
        await self._send_outbound(repo, agent, conv, command.text, "replied")
        return Reply(
            f"Sending your reply to the customer of #{conv.number}…", conversation_number=conv.number
        )

    async def _template(
        self, repo: Repository, agent: Agent, conv: Conversation, command: c.Template
    ) -> Reply:
        template = render_template(self.settings, conv.channel, command.name, command.params)
        if conv.assignee_id not in (None, agent.id) and self.settings.inbox(conv.inbox).collision == "refuse":
            holder = await repo.agent(conv.assignee_id)
            return Reply(f"#{conv.number} is assigned to {holder.name}; only they can reply.", ok=False)
        await self._send_outbound(repo, agent, conv, template.text, "templated", template.meta)
        return Reply(
            f"Sending template '{command.name}' to the customer of #{conv.number}…",
            conversation_number=conv.number,
        )

    async def _send_outbound(
        self,
        repo: Repository,
        agent: Agent,
        conv: Conversation,
        text: str,
        action: str,
        meta: dict[str, object] | None = None,
    ) -> None:
        effects = self._effects(repo, conv)
        message = repo.new_message(
            conv,
            MessageKind.OUTBOUND,
            effects.now,
            channel=conv.channel,
            author_agent_id=agent.id,
            author_name=agent.name,
            text=text,
            delivery_status=DeliveryStatus.PENDING,
            meta=meta,
        )
        conv.last_outbound_at = effects.now
        conv.updated_at = effects.now
        repo.audit(actor=agent.name, action=action, now=effects.now, conversation=conv)
        await effects.send(message)

    async def _snooze(self, repo: Repository, agent: Agent, conv: Conversation, command: c.Snooze) -> Reply:
        inbox = self.settings.inbox(conv.inbox)
        try:
            until = parse_snooze(command.spec, self.clock.now(), inbox.zone)
        except TimeSpecError as exc:
            return Reply(str(exc), ok=False)
        conv.status = next_status(Status(conv.status), "snooze", conv.number)
        conv.snoozed_until = until
        sla.recompute(conv, sla.policy_for(inbox), self.clock.now())
        local = until.astimezone(inbox.zone).strftime("%a %d %b %H:%M")
        await self._effects(repo, conv).event(
            agent.name,
            "snoozed",
            f"snoozed until {local} ({inbox.timezone}) by {agent.name}",
            {"until": until.isoformat()},
        )
        return Reply(f"#{conv.number} snoozed until {local}.", conversation_number=conv.number)

    async def _close(self, repo: Repository, agent: Agent, conv: Conversation, _: c.Close) -> Reply:
        conv.status = next_status(Status(conv.status), "close", conv.number)
        conv.snoozed_until = None
        conv.closed_at = self.clock.now()
        sla.recompute(conv, sla.policy_for(self.settings.inbox(conv.inbox)), self.clock.now())
        await self._effects(repo, conv).event(agent.name, "closed", f"closed by {agent.name}")
        await request_csat(repo, self.settings, conv, self.clock.now())  # one-question rating
        return Reply(f"#{conv.number} closed.", conversation_number=conv.number)

    async def _reopen(self, repo: Repository, agent: Agent, conv: Conversation, _: c.Reopen) -> Reply:
        conv.status = next_status(Status(conv.status), "reopen", conv.number)
        conv.snoozed_until = None
        was_closed = conv.closed_at is not None
        conv.closed_at = None
        sla.recompute(
            conv,
            sla.policy_for(self.settings.inbox(conv.inbox)),
            self.clock.now(),
            *((sla.REOPENED,) if was_closed else ()),
        )
        await self._effects(repo, conv).event(agent.name, "reopened", f"reopened by {agent.name}")
        return Reply(f"#{conv.number} reopened.", conversation_number=conv.number)

    async def _history(self, repo: Repository, agent: Agent, conv: Conversation, _: c.History) -> Reply:
        return Reply(await describe_history(repo, conv), conversation_number=conv.number)

    async def _retry(self, repo: Repository, agent: Agent, conv: Conversation, _: c.Retry) -> Reply:
        failed = await repo.failed_outbound(conv.id)
        if not failed:
            return Reply(f"#{conv.number} has no failed replies.", conversation_number=conv.number)
        refusal = window_refusal(self.settings, conv.channel, conv.last_inbound_at, self.clock.now())
        if refusal is not None and any(not (m.meta or {}).get("template") for m in failed):
            return Reply(refusal, ok=False, conversation_number=conv.number)
        effects = self._effects(repo, conv)
        for message in failed:
            message.delivery_status = DeliveryStatus.PENDING
            message.delivery_error = None
            await effects.send(message)
        repo.audit(
            actor=agent.name,
            action="retried",
            now=effects.now,
            conversation=conv,
            detail={"messages": len(failed)},
        )
        return Reply(
            f"Sending {len(failed)} failed repl{'y' if len(failed) == 1 else 'ies'} again.",
            conversation_number=conv.number,
        )

    async def _priority(
        self, repo: Repository, agent: Agent, conv: Conversation, command: c.Priority
    ) -> Reply:
        if conv.priority == command.level:
            return Reply(f"#{conv.number} is already {command.level}.", conversation_number=conv.number)
        conv.priority = command.level
        await self._effects(repo, conv).event(
            agent.name,
            "prioritised",
            f"priority {command.level} by {agent.name}",
            {"priority": command.level},
        )
        return Reply(f"#{conv.number} priority {command.level}.", conversation_number=conv.number)


_HANDLERS: dict[type, Callable[..., Awaitable[Reply]]] = {
    c.Claim: CommandService._claim,
    c.Assign: CommandService._assign,
    c.Unassign: CommandService._unassign,
    c.LabelChange: CommandService._label,
    c.Note: CommandService._note,
    c.Reply: CommandService._reply,
    c.Snooze: CommandService._snooze,
    c.Close: CommandService._close,
    c.Reopen: CommandService._reopen,
    c.History: CommandService._history,
    c.Retry: CommandService._retry,
    c.Priority: CommandService._priority,
    c.Template: CommandService._template,
    **CONVERSATION_HANDLERS,  # replaces Template and History
}
