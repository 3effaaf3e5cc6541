"""Applying rules to a stored inbound message, inside the ingest transaction (one call from ingest).

Actions, in this order per rule: route to another inbox (new conversations only, before
anything reaches a thread), add labels, set priority, assign (an agent, or a team's next
available agent; never over an existing assignee), post a note, send a template auto-reply
(never to auto-replies, bounces or list mail; once per conversation and rule). Every action
shows in the thread as an event naming the rule, and lands in the audit trail.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.automation.assign import assign_team
from bot.automation.batch import RuleBatch
from bot.automation.match import Match, evaluate
from bot.automation.templates import CannedReply, render_for
from bot.config import Settings
from bot.domain import MessageKind
from bot.effects import Effects, surface_destination
from bot.ports.inbound import InboundMessage
from bot.settings.core import InboxSettings
from bot.settings.rules import RuleSettings
from storage import UnitOfWork
from storage.models import Conversation

__all__ = ["AUTO_REPLY_AUTHOR", "apply_rules", "explain"]

log = logging.getLogger(__name__)
AUTO_REPLY_AUTHOR = "Threadline (auto-reply)"


def explain(settings: Settings, msg: InboundMessage, *, new_conversation: bool = True) -> list[Match]:
    """Every rule's verdict on ``msg`` in order, as ingest would apply them (``stop`` honoured)."""
    verdicts: list[Match] = []
    stopped: str | None = None
    for rule in settings.rules:
        if stopped is not None:
            verdicts.append(Match(rule, False, (f"skipped: rule '{stopped}' fired with stop = true",)))
            continue
        if rule.applies_to == "new_conversation" and not new_conversation:
            verdicts.append(Match(rule, False, ("applies to new conversations only",)))
            continue
        verdict = evaluate(rule, msg)
        verdicts.append(verdict)
        if verdict.fired and rule.stop:
            stopped = rule.name
    return verdicts


async def apply_rules(
    uow: UnitOfWork,
    settings: Settings,
    conversation: Conversation,
    msg: InboundMessage,
    inbox: InboxSettings,
    *,
    batch: RuleBatch,
    created: bool,
    now: datetime,
) -> InboxSettings:
    """Apply the rules that fire on ``msg``; return the (maybe routed) inbox settings.

    Nothing is flushed here (but for the rare action that needs a generated id): ``batch`` holds
    what the batch's rules looked up and gave.
    """
    for verdict in explain(settings, msg, new_conversation=created):
        if not verdict.fired:
            continue
        inbox = await _apply(uow, batch, settings, conversation, msg, inbox, verdict.rule, created, now)
        log.info(
            "rule fired",
            extra={
                "rule": verdict.rule.name,
                "conversation": conversation.number,
                "inbox": conversation.inbox,
            },
        )
    return inbox


async def _apply(
    uow: UnitOfWork,
    batch: RuleBatch,
    settings: Settings,
    conv: Conversation,
    msg: InboundMessage,
    inbox: InboxSettings,
    rule: RuleSettings,
    created: bool,
    now: datetime,
) -> InboxSettings:
    actor = f"rule '{rule.name}'"
    changes: list[str] = []

    def record(action: str, text: str, detail: dict[str, object]) -> None:
        uow.audit.record(
            actor=actor,
            action=action,
            now=now,
            conversation=conv,
            detail=detail,
        )
        changes.append(text)

    if rule.route_to and created and rule.route_to != conv.inbox:
        target = settings.inbox(rule.route_to)
        old = conv.inbox
        if target.surface != inbox.surface:
            await uow.flush()  # the conversation's staged outbox rows are rerouted with the stored ones
            await uow.outbox.reroute(
                conv.id, surface_destination(inbox.surface), surface_destination(target.surface)
            )
        conv.inbox, inbox = rule.route_to, target
        record("routed", f"routed from {settings.inbox_display(old)}", {"from": old, "to": conv.inbox})
    effects = Effects(uow, conv, inbox, now)
    added = []
    for name in rule.add_labels:
        label = await batch.give_label(conv, name)
        if label is not None:
            added.append(label.name)
    if added:
        record("labelled", "labels " + " ".join(f"+{n}" for n in added), {"added": added, "removed": []})
    if rule.priority and conv.priority != rule.priority:
        conv.priority = rule.priority
        record("prioritised", f"priority {rule.priority}", {"priority": rule.priority})
    if rule.assign and conv.assignee_id is None:
        assigned = await _assign(batch, settings, conv, effects, rule, actor)
        if assigned is not None:
            record("assigned", assigned[0], {"agent": assigned[1], "rule": rule.name})
    if changes:  # one thread event per rule, listing what it did (the audit trail has a row per action)
        event = uow.messages.new_message(
            conv, MessageKind.EVENT, now, author_name=actor, text=f"{actor}: " + " · ".join(changes)
        )
        conv.updated_at = now
        await effects.show(event)
        if not created:  # a new conversation's thread is created with its card as it is by then
            await effects.card_changed()
    if rule.note:
        note = uow.messages.new_message(conv, MessageKind.NOTE, now, author_name=actor, text=rule.note)
        uow.audit.record(actor=actor, action="noted", now=now, conversation=conv)
        await effects.show(note)
    if rule.auto_reply:
        await _auto_reply(uow, settings, conv, msg, effects, rule, actor)
    return inbox


async def _assign(
    batch: RuleBatch, settings: Settings, conv: Conversation, effects: Effects, rule: RuleSettings, actor: str
) -> tuple[str, str] | None:
    """Assign per the rule; (what happened, agent key), or None after a notice saying why not."""
    assert rule.assign is not None
    if rule.assign.startswith("team:"):
        team = rule.assign.removeprefix("team:")
        agent, why = await assign_team(batch, team, settings.teams[team])
    else:
        agent = (await batch.agents([rule.assign])).get(rule.assign)
        why = "named in the rule"
        if agent is not None and agent.away:
            why = f"{agent.name} is away"
            agent = None
    if agent is None:
        await effects.notice(f"{actor} could not assign #{conv.number}: {why}. Assign it by hand.")
        return None
    conv.assignee_id = agent.id
    batch.assigned(agent)
    return f"assigned to {agent.name} ({why})", agent.key


async def _auto_reply(
    uow: UnitOfWork,
    settings: Settings,
    conv: Conversation,
    msg: InboundMessage,
    effects: Effects,
    rule: RuleSettings,
    actor: str,
) -> None:
    # never answer a robot (auto-replies, bounces, list mail), mail read again in a resync, nor a
    # mail without an address
    if msg.auto_kind is not None or msg.resynced or not msg.sender_address:
        return
    once = rule.applies_to == "new_conversation"  # such a rule runs once per conversation anyway
    if not once and conv.id is None:
        await uow.flush()  # a conversation staged in this batch gets the id its reply key names
    if not once and not await uow.cursors.first_time(f"rule-reply:{conv.id}:{rule.name}", effects.now):
        return
    assert rule.auto_reply is not None
    template = settings.templates[rule.auto_reply]
    canned = CannedReply(rule.auto_reply, template.body, "config")
    assignee = await uow.agents.agent(conv.assignee_id) if conv.assignee_id else None
    rendered = await render_for(uow, settings, canned, conv, assignee)
    if not rendered.ok:
        await effects.notice(f"{actor}: " + rendered.problem(rule.auto_reply))
        return
    uow.audit.record(actor=actor, action="auto-replied", now=effects.now, conversation=conv)
    await effects.send_automatic(AUTO_REPLY_AUTHOR, rendered.text, canned=rule.auto_reply, rule=rule.name)
