"""Hand-over summaries (``summary``, and on claim or assign) and sending the model's reply draft."""

from __future__ import annotations

from bot.commands.context import Context
from bot.commands.handlers.replies import reply
from bot.commands.model import ReplyToCustomer, SendDraft, Summary
from bot.domain import MessageKind
from bot.handover import gather, render
from bot.handover.service import DRAFT_META, show_note
from bot.views import Reply
from storage.models import Conversation

__all__ = ["post_summary", "send_draft", "summary"]


async def post_summary(ctx: Context, conv: Conversation) -> None:
    """Post the hand-over summary in the thread: now (deterministic), or after the commit (a model)."""
    if ctx.settings.summary.llm:
        ctx.handovers.append(conv.number)  # CommandService hands it to HandoverService after the commit
        return
    await show_note(ctx.effects(conv), render(await gather(ctx.uow, ctx.settings, conv, ctx.now())))


async def summary(ctx: Context, _: Summary) -> Reply:
    """Post the conversation's hand-over summary in its thread."""
    conv = await ctx.conversation()
    await post_summary(ctx, conv)
    return Reply(
        f"Hand-over summary of #{conv.number} posted in the thread.", conversation_number=conv.number
    )


async def send_draft(ctx: Context, _: SendDraft) -> Reply:
    """Send the newest reply draft the model proposed, as the acting agent's reply (checks included)."""
    conv = await ctx.conversation()
    notes = await ctx.uow.messages.messages_of(conv.id, [MessageKind.NOTE])
    drafts = [m for m in notes if (m.meta or {}).get(DRAFT_META) and not (m.meta or {}).get("draft_sent")]
    if not drafts:
        return Reply(
            f"#{conv.number} has no reply draft to send; {ctx.prefix}summary asks for one "
            "when [summary] llm is on.",
            ok=False,
            conversation_number=conv.number,
        )
    draft = drafts[-1]
    answer = await reply(ctx, ReplyToCustomer(str((draft.meta or {})[DRAFT_META])))
    if answer.ok:
        draft.meta = {**(draft.meta or {}), "draft_sent": True}
    return answer
