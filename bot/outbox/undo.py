"""The undo window of agents' replies: held in the outbox, taken back, or revised before they leave.

A reply an agent sends is stored ``pending`` and its ``send`` row is due only after
``[outbox] undo_seconds`` (default 10; 0 sends at once). The thread says so, with an Undo
button (Slack, Discord) and the ``undo`` command. Until the dispatcher claims the row the
reply can be taken back (``undo``) or its text revised (the agent edited the chat message).
Both go through ``uow.outbox.keep_held``: one conditional UPDATE that either wins the race
with the delivery or finds the row already claimed. The hold is a due time in the database,
so a reply whose window passed while Threadline was down is sent once on restart.
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.domain import DeliveryStatus
from bot.effects import Effects
from storage import UnitOfWork
from storage.models import Message

__all__ = ["hold_reply", "revise_held", "undo_latest"]


async def hold_reply(effects: Effects, settings: Settings, message: Message) -> None:
    """Queue an agent's reply behind the undo window and say so in the thread (with an Undo button)."""
    seconds = settings.outbox.undo_seconds
    if not seconds:
        await effects.send(message)
        return
    await effects.send(message, hold=timedelta(seconds=seconds))
    prefix = settings.threadline.command_prefix
    await effects.notice(
        f"Reply by {message.author_name or 'an agent'} sending in {seconds:g} s — "
        f"Undo (or type {prefix}undo) to keep it from the customer.",
        undo=True,
    )


async def undo_latest(
    uow: UnitOfWork, effects: Effects, actor: str, message_id: int | None = None
) -> Message | None:
    """Take back the conversation's newest reply (or reply ``message_id``) that has not left the outbox;
    None when there is none. The reply stays stored, marked ``undone``; the thread is told."""
    for row in await uow.outbox.held_sends(effects.conversation.id):
        if row.message_id is None or message_id not in (None, row.message_id):
            continue
        if not await uow.outbox.keep_held(row.id, cancel=True):
            continue
        message = await uow.messages.message(row.message_id)
        message.delivery_status = DeliveryStatus.UNDONE
        uow.audit.record(actor=actor, action="undone", now=effects.now, conversation=effects.conversation)
        await effects.notice(f"Reply undone by {actor}; the customer did not get it.")
        await effects.card_changed()
        return message
    return None


async def revise_held(uow: UnitOfWork, message: Message, text: str) -> bool:
    """Give a reply still inside its undo window new text; False when it already left (or was undone)."""
    row = await uow.outbox.held_send_of(message.id)
    if row is None or not await uow.outbox.keep_held(row.id):
        return False
    message.text = text
    return True
