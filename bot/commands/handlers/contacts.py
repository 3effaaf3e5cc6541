"""The customer behind a conversation: the profile, a pinned note, merging two contacts."""

from __future__ import annotations

from bot.commands.context import Context
from bot.commands.model import ContactMerge, History, PinContactNote, Profile
from bot.contacts import describe_profile, find_contact, merge_contacts
from bot.domain import MessageKind
from bot.views import Reply

__all__ = ["merge", "pin_note", "profile"]


async def profile(ctx: Context, _: Profile | History) -> Reply:
    """The customer's identities, past conversations, labels and pinned notes."""
    conv = await ctx.conversation()
    return Reply(await describe_profile(ctx.uow, conv), conversation_number=conv.number)


async def pin_note(ctx: Context, command: PinContactNote) -> Reply:
    """Pin a note to the customer's profile and show it in this thread."""
    conv, agent, now = await ctx.conversation(), ctx.agent, ctx.now()
    ctx.uow.contacts.add_contact_note(conv.contact_id, agent.name, command.text, now)
    note = ctx.uow.messages.new_message(
        conv,
        MessageKind.NOTE,
        now,
        author_agent_id=agent.id,
        author_name=agent.name,
        text="📌 " + command.text,
    )
    ctx.uow.audit.record(actor=agent.name, action="contact-noted", now=now, conversation=conv)
    await ctx.effects(conv).show(note)
    return Reply("Note pinned to the customer's profile.", conversation_number=conv.number)


async def merge(ctx: Context, command: ContactMerge) -> Reply:
    """Merge contact ``other`` into ``keep``."""
    keep, other = await find_contact(ctx.uow, command.keep), await find_contact(ctx.uow, command.other)
    for ref, found in ((command.keep, keep), (command.other, other)):
        if found is None:
            return Reply(f"No contact '{ref[:60]}'. Name one by #42, an address, a phone or id:17.", ok=False)
    assert keep is not None and other is not None
    if keep.id == other.id:
        return Reply("That is the same contact already.", ok=False)
    moved = await merge_contacts(ctx.uow, keep, other, ctx.agent.name, dict(ctx.settings.inboxes), ctx.now())
    return Reply(
        f"Merged contact id:{other.id} into id:{keep.id}; conversations moved: "
        + (", ".join(f"#{n}" for n in moved) or "none")
    )
