"""What is written in a conversation: internal notes, replies and templates to the customer, retries."""

from __future__ import annotations

from bot.automation.collision import collision_refusal
from bot.automation.templates import find_template, render_for
from bot.commands.context import Context
from bot.commands.handlers.templates import unknown_template
from bot.commands.model import Note, ReplyToCustomer, Retry, Template, Undo
from bot.commands.reply_files import files_refusal
from bot.domain import DeliveryStatus, MessageKind
from bot.outbox.reachability import no_address_refusal
from bot.outbox.undo import hold_reply, undo_latest
from bot.ports.inbound import InboundAttachment
from bot.views import Reply
from bot.windows import has_window, render_template, templates_for, window_refusal
from storage.models import Conversation

__all__ = ["note", "reply", "retry", "send_template", "undo"]


async def note(ctx: Context, command: Note) -> Reply:
    """Add an internal note; it is posted in the thread unless it was typed there."""
    conv, agent = await ctx.conversation(), ctx.agent
    effects = ctx.effects(conv)
    message = ctx.uow.messages.new_message(
        conv,
        MessageKind.NOTE,
        effects.now,
        author_agent_id=agent.id,
        author_name=agent.name,
        text=command.text,
        chat_ref=ctx.chat_ref,
    )
    ctx.uow.audit.record(actor=agent.name, action="noted", now=effects.now, conversation=conv)
    if not command.shown:
        await effects.show(message)
    return Reply("Note added.", ephemeral=True, conversation_number=conv.number)


async def reply(ctx: Context, command: ReplyToCustomer) -> Reply:
    """Send a free-form reply to the customer, unless the channel's window or a teammate stands in the way."""
    conv = await ctx.conversation()
    refusal = await no_address_refusal(ctx.uow, ctx.settings, conv) or window_refusal(
        ctx.settings, conv.channel, conv.last_inbound_at, ctx.now()
    )
    refusal = refusal or files_refusal(ctx.settings, conv.channel, command.files)
    if refusal is not None:
        return Reply(refusal, ok=False, conversation_number=conv.number)
    hint = f"{ctx.prefix}reply --confirm {command.text}"
    if conv.status == "closed" and not command.confirm:
        return Reply(
            f"#{conv.number} is closed. To reply anyway: {hint}",
            ok=False,
            needs_confirmation=True,
            conversation_number=conv.number,
        )
    blocked = await collision_refusal(  # assigned to someone else, or a teammate just replied
        ctx.uow,
        ctx.settings,
        ctx.agent,
        conv,
        ctx.now(),
        confirm=command.confirm,
        confirm_hint=hint,
    )
    if blocked is not None:
        return blocked
    await _send_outbound(ctx, conv, command.text, "replied", files=command.files)
    return Reply(f"Sending your reply to the customer of #{conv.number}…", conversation_number=conv.number)


async def send_template(ctx: Context, command: Template) -> Reply:
    """One ``template NAME`` for every channel: an approved template where the channel has a window
    (and the name is one, or no canned reply is), else a canned reply."""
    conv = await ctx.conversation()
    params = tuple(p for p in command.params if p != "--confirm")
    confirm = len(params) != len(command.params)
    approved = templates_for(ctx.settings, conv.channel)
    canned = await find_template(ctx.uow, ctx.settings, command.name)
    if has_window(ctx.settings, conv.channel) and (command.name in approved or canned is None):
        return await _send_approved(ctx, conv, Template(command.name, params))
    if canned is None:
        return Reply(await unknown_template(ctx, command.name), ok=False, conversation_number=conv.number)
    if params:
        return Reply(
            f"Canned reply '{canned.name}' takes no parameters; it fills in placeholders itself.", ok=False
        )
    now = ctx.now()
    refusal = window_refusal(ctx.settings, conv.channel, conv.last_inbound_at, now)
    if refusal is not None:
        return Reply(refusal, ok=False, conversation_number=conv.number)
    hint = f"{ctx.prefix}template {canned.name} --confirm"
    blocked = await collision_refusal(
        ctx.uow, ctx.settings, ctx.agent, conv, now, confirm=confirm, confirm_hint=hint
    )
    if blocked is not None:
        return blocked
    rendered = await render_for(ctx.uow, ctx.settings, canned, conv, ctx.agent)
    if not rendered.ok:
        return Reply(rendered.problem(canned.name), ok=False, conversation_number=conv.number)
    await _send_outbound(ctx, conv, rendered.text, "templated", {"canned": canned.name})
    return Reply(
        f"Sending '{canned.name}' to the customer of #{conv.number}…", conversation_number=conv.number
    )


async def _send_approved(ctx: Context, conv: Conversation, command: Template) -> Reply:
    template = render_template(ctx.settings, conv.channel, command.name, command.params)
    if conv.assignee_id not in (None, ctx.agent.id) and ctx.settings.inbox(conv.inbox).collision == "refuse":
        holder = await ctx.uow.agents.agent(conv.assignee_id)
        return Reply(f"#{conv.number} is assigned to {holder.name}; only they can reply.", ok=False)
    await _send_outbound(ctx, conv, template.text, "templated", template.meta)
    return Reply(
        f"Sending template '{command.name}' to the customer of #{conv.number}…",
        conversation_number=conv.number,
    )


async def retry(ctx: Context, _: Retry) -> Reply:
    """Send the conversation's failed replies again (free-form ones only inside the channel's window)."""
    conv, agent = await ctx.conversation(), ctx.agent
    failed = await ctx.uow.messages.failed_outbound(conv.id)
    if not failed:
        return Reply(f"#{conv.number} has no failed replies.", conversation_number=conv.number)
    refusal = window_refusal(ctx.settings, conv.channel, conv.last_inbound_at, ctx.now())
    if refusal is not None and any(not (m.meta or {}).get("template") for m in failed):
        return Reply(refusal, ok=False, conversation_number=conv.number)
    effects = ctx.effects(conv)
    for message in failed:
        message.delivery_status = DeliveryStatus.PENDING
        message.delivery_error = None
        await effects.send(message)
    ctx.uow.audit.record(
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


async def undo(ctx: Context, _: Undo) -> Reply:
    """Take back the conversation's newest reply that has not left the outbox yet."""
    conv = await ctx.conversation()
    taken = await undo_latest(ctx.uow, ctx.effects(conv), ctx.agent.name)
    if taken is None:
        return Reply(
            f"#{conv.number} has no reply waiting to be sent; a sent reply cannot be taken back.",
            ok=False,
            conversation_number=conv.number,
        )
    return Reply(
        f"Reply undone; the customer of #{conv.number} did not get it.", conversation_number=conv.number
    )


async def _send_outbound(
    ctx: Context,
    conv: Conversation,
    text: str,
    action: str,
    meta: dict[str, object] | None = None,
    files: tuple[InboundAttachment, ...] = (),
) -> None:
    effects = ctx.effects(conv)
    message = ctx.uow.messages.new_message(
        conv,
        MessageKind.OUTBOUND,
        effects.now,
        channel=conv.channel,
        author_agent_id=ctx.agent.id,
        author_name=ctx.agent.name,
        text=text,
        delivery_status=DeliveryStatus.PENDING,
        meta=meta,
        chat_ref=ctx.chat_ref,
    )
    for f in files:
        ctx.uow.messages.add_attachment(
            message, filename=f.filename, content_type=f.content_type, size=f.size, data=f.data
        )
    conv.last_outbound_at = effects.now
    conv.updated_at = effects.now
    ctx.uow.audit.record(actor=ctx.agent.name, action=action, now=effects.now, conversation=conv)
    await hold_reply(effects, ctx.settings, message)
