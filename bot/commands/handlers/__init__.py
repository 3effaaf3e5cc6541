"""The one handler table: each command type and the plain function ``async (ctx, command)`` that applies it.

Handlers are grouped by subject: ``assignment``, ``state``, ``replies``, ``templates``,
``contacts``, ``lookups``, ``handover`` (summaries, reply drafts) and ``reactions`` (an emoji
run as the command it stands for, through this same table).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.commands import model as m
from bot.commands.context import Context
from bot.commands.handlers import (
    assignment,
    contacts,
    handover,
    lookups,
    reactions,
    replies,
    state,
    templates,
)
from bot.views import Reply

__all__ = ["HANDLERS", "Handler"]

Handler = Callable[[Context, Any], Awaitable[Reply]]
"""A command handler: the context and the command in, the answer to the agent out."""

HANDLERS: dict[type, Handler] = {
    m.Help: lookups.help_answer,
    m.Labels: lookups.labels_in_use,
    m.ListConversations: lookups.list_conversations,
    m.Queue: lookups.personal_queue,
    m.Away: assignment.away,
    m.Back: assignment.back,
    m.TemplateList: templates.list_canned,
    m.TemplateSave: templates.save_canned,
    m.ContactMerge: contacts.merge,
    m.Claim: assignment.claim,
    m.Assign: assignment.assign,
    m.Unassign: assignment.unassign,
    m.LabelChange: state.change_labels,
    m.Snooze: state.snooze,
    m.Close: state.close,
    m.Reopen: state.reopen,
    m.Priority: state.set_priority,
    m.Note: replies.note,
    m.ReplyToCustomer: replies.reply,
    m.Template: replies.send_template,
    m.Retry: replies.retry,
    m.Undo: replies.undo,
    m.TemplatePreview: templates.preview_canned,
    m.Profile: contacts.profile,
    m.History: contacts.profile,
    m.PinContactNote: contacts.pin_note,
    m.Summary: handover.summary,
    m.SendDraft: handover.send_draft,
}
"""Every command type and its handler."""
HANDLERS[m.Reaction] = functools.partial(reactions.react, HANDLERS)
