"""Canned replies: list them, preview one for a conversation, save one."""

from __future__ import annotations

from bot.automation.templates import find_template, list_templates, render_for
from bot.commands.context import Context
from bot.commands.model import TemplateList, TemplatePreview, TemplateSave
from bot.views import Reply

__all__ = ["list_canned", "preview_canned", "save_canned", "unknown_template"]


async def unknown_template(ctx: Context, name: str) -> str:
    """The answer to a template name that is not known, listing the canned replies."""
    known = ", ".join(t.name for t in await list_templates(ctx.uow, ctx.settings)) or "none yet"
    return f"No template '{name[:60]}'. Canned replies: {known}."


async def list_canned(ctx: Context, _: TemplateList) -> Reply:
    """Every canned reply, from the config file and saved by agents."""
    found = await list_templates(ctx.uow, ctx.settings)
    if not found:
        return Reply("No canned replies yet: add [templates.NAME] to the config, or template save NAME TEXT.")
    lines = [f"{t.name} ({t.source}): {t.description or t.body[:70]}" for t in found]
    return Reply("Canned replies:\n" + "\n".join(lines))


async def preview_canned(ctx: Context, command: TemplatePreview) -> Reply:
    """A canned reply filled in for this conversation, shown only to the agent."""
    conv = await ctx.conversation()
    template = await find_template(ctx.uow, ctx.settings, command.name)
    if template is None:
        return Reply(await unknown_template(ctx, command.name), ok=False)
    rendered = await render_for(ctx.uow, ctx.settings, template, conv, ctx.agent)
    warning = "" if rendered.ok else "\n⚠ " + rendered.problem(template.name)
    return Reply(
        f"Preview of '{template.name}' for #{conv.number} (only you see this):\n{rendered.text}{warning}",
        ok=rendered.ok,
        conversation_number=conv.number,
    )


async def save_canned(ctx: Context, command: TemplateSave) -> Reply:
    """Save a canned reply; without text, the conversation's last reply to the customer."""
    agent, text = ctx.agent, command.text
    if not text:
        conv = await ctx.find_conversation()
        if conv is None:
            return Reply("Say what to save (template save NAME TEXT), or use it in a thread.", ok=False)
        sent = [
            m
            for m in await ctx.uow.messages.messages_of(conv.id, ["outbound"])
            if m.author_agent_id is not None
        ]
        if not sent:
            return Reply(
                f"#{conv.number} has no reply to save; give the text: template save NAME TEXT", ok=False
            )
        text = sent[-1].text
    if command.name.lower() in {k.lower() for k in ctx.settings.templates}:
        return Reply(f"'{command.name}' is defined in the config file; choose another name.", ok=False)
    new = await ctx.uow.templates.save_template(command.name, text, agent.name, ctx.now())
    ctx.uow.audit.record(
        actor=agent.name, action="template-saved", now=ctx.now(), detail={"template": command.name}
    )
    return Reply(f"Template '{command.name}' {'saved' if new else 'replaced'}: {text[:80]}")
