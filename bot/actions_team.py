"""Handlers of the teamwork commands, registered in ``bot.actions``' handler tables.

Conversation handlers take ``(service, repo, agent, conversation, command)``; agent-level
ones (no conversation needed) take ``(service, repo, agent, command, number, where)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot import commands as c
from bot import commands_team as t
from bot.collision import collision_refusal
from bot.contacts import describe_profile, find_contact, merge_contacts
from bot.domain import MessageKind
from bot.templates import find_template, list_templates, render_for
from bot.views import Reply
from bot.windows import WINDOWS, templates_for, window_refusal
from storage import Repository
from storage.automation import Automation
from storage.models import Agent, Conversation

if TYPE_CHECKING:
    from bot.actions import CommandService, Location

__all__ = ["AGENT_HANDLERS", "CONVERSATION_HANDLERS"]


async def _away(svc: CommandService, repo: Repository, agent: Agent, _: t.Away, *__: Any) -> Reply:
    agent.away = True
    repo.audit(actor=agent.name, action="away", now=svc.clock.now(), detail={"agent": agent.key})
    return Reply("You are away: automatic assignment skips you until you type back.")


async def _back(svc: CommandService, repo: Repository, agent: Agent, _: t.Back, *__: Any) -> Reply:
    agent.away = False
    repo.audit(actor=agent.name, action="back", now=svc.clock.now(), detail={"agent": agent.key})
    return Reply("Welcome back: automatic assignment includes you again.")


async def _template_list(svc: CommandService, repo: Repository, agent: Agent, _: Any, *__: Any) -> Reply:
    found = await list_templates(repo, svc.settings)
    if not found:
        return Reply("No canned replies yet: add [templates.NAME] to the config, or template save NAME TEXT.")
    lines = [f"{t.name} ({t.source}): {t.description or t.body[:70]}" for t in found]
    return Reply("Canned replies:\n" + "\n".join(lines))


async def _template_save(
    svc: CommandService,
    repo: Repository,
    agent: Agent,
    cmd: t.TemplateSave,
    number: int | None,
    where: Location,
) -> Reply:
    text = cmd.text
    if not text:
        conv = await svc._locate(repo, number, where)
        if conv is None:
            return Reply("Say what to save (template save NAME TEXT), or use it in a thread.", ok=False)
        sent = [m for m in await repo.messages_of(conv.id, ["outbound"]) if m.author_agent_id is not None]
        if not sent:
            return Reply(
                f"#{conv.number} has no reply to save; give the text: template save NAME TEXT", ok=False
            )
        text = sent[-1].text
    if cmd.name.lower() in {k.lower() for k in svc.settings.templates}:
        return Reply(f"'{cmd.name}' is defined in the config file; choose another name.", ok=False)
    new = await Automation(repo).save_template(cmd.name, text, agent.name, svc.clock.now())
    repo.audit(actor=agent.name, action="template-saved", now=svc.clock.now(), detail={"template": cmd.name})
    return Reply(f"Template '{cmd.name}' {'saved' if new else 'replaced'}: {text[:80]}")


async def _merge(svc: CommandService, repo: Repository, agent: Agent, cmd: t.ContactMerge, *__: Any) -> Reply:
    keep, other = await find_contact(repo, cmd.keep), await find_contact(repo, cmd.other)
    for ref, found in ((cmd.keep, keep), (cmd.other, other)):
        if found is None:
            return Reply(f"No contact '{ref[:60]}'. Name one by #42, an address, a phone or id:17.", ok=False)
    assert keep is not None and other is not None
    if keep.id == other.id:
        return Reply("That is the same contact already.", ok=False)
    moved = await merge_contacts(repo, keep, other, agent.name, dict(svc.settings.inboxes), svc.clock.now())
    return Reply(
        f"Merged contact id:{other.id} into id:{keep.id}; conversations moved: "
        + (", ".join(f"#{n}" for n in moved) or "none")
    )


async def _profile(svc: CommandService, repo: Repository, agent: Agent, conv: Conversation, _: Any) -> Reply:
    return Reply(await describe_profile(repo, conv), conversation_number=conv.number)


async def _contact_note(
    svc: CommandService, repo: Repository, agent: Agent, conv: Conversation, cmd: t.ContactNote
) -> Reply:
    now = svc.clock.now()
    Automation(repo).add_contact_note(conv.contact_id, agent.name, cmd.text, now)
    note = repo.new_message(
        conv,
        MessageKind.NOTE,
        now,
        author_agent_id=agent.id,
        author_name=agent.name,
        text="📌 " + cmd.text,
    )
    repo.audit(actor=agent.name, action="contact-noted", now=now, conversation=conv)
    await svc._effects(repo, conv).show(note)
    return Reply("Note pinned to the customer's profile.", conversation_number=conv.number)


async def _preview(
    svc: CommandService, repo: Repository, agent: Agent, conv: Conversation, cmd: t.TemplatePreview
) -> Reply:
    template = await find_template(repo, svc.settings, cmd.name)
    if template is None:
        return Reply(await _unknown(repo, svc, cmd.name), ok=False)
    rendered = await render_for(repo, svc.settings, template, conv, agent)
    warning = "" if rendered.ok else "\n⚠ " + rendered.problem(template.name)
    return Reply(
        f"Preview of '{template.name}' for #{conv.number} (only you see this):\n{rendered.text}{warning}",
        ok=rendered.ok,
        conversation_number=conv.number,
    )


async def _unknown(repo: Repository, svc: CommandService, name: str) -> str:
    known = ", ".join(t.name for t in await list_templates(repo, svc.settings)) or "none yet"
    return f"No template '{name[:60]}'. Canned replies: {known}."


async def _template(
    svc: CommandService, repo: Repository, agent: Agent, conv: Conversation, cmd: c.Template
) -> Reply:
    """One ``template NAME`` for every channel: WhatsApp's approved templates first, else a canned reply."""
    params = tuple(p for p in cmd.params if p != "--confirm")
    confirm = len(params) != len(cmd.params)
    approved = templates_for(svc.settings, conv.channel)
    canned = await find_template(repo, svc.settings, cmd.name)
    if conv.channel in WINDOWS and (cmd.name in approved or canned is None):
        return await svc._template(repo, agent, conv, c.Template(cmd.name, params))
    if canned is None:
        return Reply(await _unknown(repo, svc, cmd.name), ok=False, conversation_number=conv.number)
    if params:
        return Reply(
            f"Canned reply '{canned.name}' takes no parameters; it fills in placeholders itself.", ok=False
        )
    now = svc.clock.now()
    refusal = window_refusal(svc.settings, conv.channel, conv.last_inbound_at, now)
    if refusal is not None:
        return Reply(refusal, ok=False, conversation_number=conv.number)
    hint = f"{svc.prefix}template {canned.name} --confirm"
    blocked = await collision_refusal(
        repo, svc.settings, agent, conv, now, confirm=confirm, confirm_hint=hint
    )
    if blocked is not None:
        return blocked
    rendered = await render_for(repo, svc.settings, canned, conv, agent)
    if not rendered.ok:
        return Reply(rendered.problem(canned.name), ok=False, conversation_number=conv.number)
    await svc._send_outbound(repo, agent, conv, rendered.text, "templated", {"canned": canned.name})
    return Reply(
        f"Sending '{canned.name}' to the customer of #{conv.number}…", conversation_number=conv.number
    )


CONVERSATION_HANDLERS: dict[type, Callable[..., Awaitable[Reply]]] = {
    t.Profile: _profile,
    c.History: _profile,
    t.ContactNote: _contact_note,
    t.TemplatePreview: _preview,
    c.Template: _template,
}
"""Teamwork handlers that act on one conversation."""

AGENT_HANDLERS: dict[type, Callable[..., Awaitable[Reply]]] = {
    t.Away: _away,
    t.Back: _back,
    t.TemplateList: _template_list,
    t.TemplateSave: _template_save,
    t.ContactMerge: _merge,
}
"""Teamwork handlers that need no conversation."""
