"""Builds the surface-neutral views (``bot.views``) from stored rows."""

from __future__ import annotations

from bot.config import Settings
from bot.contacts import contact_address, customer_label
from bot.sla.clock import sla_due_of
from bot.views import AttachmentView, CardView, OutboundView, PostView
from storage import UnitOfWork
from storage.models import Attachment, Contact, Conversation, Message

__all__ = ["card_of", "outbound_view", "post_of"]

_KIND_AUTHOR = {"note": "note", "event": "event", "outbound": "outbound"}


def card_of(
    conversation: Conversation,
    contact: Contact,
    assignee: str | None,
    labels: list[str],
    account: str,
    settings: Settings,
) -> CardView:
    """The card of a conversation as it is now, from its rows as read (``bot.outbox.batch_read``);
    ``account`` is the customer's organisation (a Slack Connect team), or ""."""
    address = contact_address(settings, contact, conversation.channel)
    return CardView(
        number=conversation.number,
        inbox=settings.inbox_display(conversation.inbox),
        channel=conversation.channel,
        customer=customer_label(contact.name, address),
        customer_address=address,
        subject=conversation.subject,
        status=conversation.status,
        assignee=assignee,
        labels=tuple(labels),
        priority=conversation.priority,
        snoozed_until=conversation.snoozed_until,
        timezone=settings.inbox(conversation.inbox).timezone,
        sla_due=sla_due_of(conversation),
        sla_state=conversation.sla_state or "ok",
        account=account,
    )


def post_of(message: Message, conversation: Conversation, attachments: list[Attachment]) -> PostView:
    """A stored message as a thread post, from its rows as read (``bot.outbox.batch_read``)."""
    files = tuple(
        AttachmentView(
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            data=a.data,
            note=a.error or ("too large to keep" if a.status == "too_large" else None),
        )
        for a in attachments
    )
    return PostView(
        kind=message.kind,
        author=message.author_name or _KIND_AUTHOR.get(message.kind, "customer"),
        text=message.text,
        created_at=message.created_at,
        from_customer=message.kind == "inbound",
        attachments=files,
        channel=message.channel or conversation.channel,
        message_uid=message.uid,
    )


async def outbound_view(
    uow: UnitOfWork, message: Message, conversation: Conversation, settings: Settings
) -> OutboundView:
    """A reply as a channel sender needs it, with the thread's references."""
    contact = await uow.contacts.contact(conversation.contact_id)
    inbox = settings.inbox(conversation.inbox)
    refs = [
        r
        for r in await uow.messages.external_ids_of(conversation.id, conversation.channel)
        if r != message.external_id
    ]
    meta = message.meta or {}
    last_meta = await uow.messages.last_customer_meta(conversation.id)
    return OutboundView(
        uid=message.uid,
        conversation_number=conversation.number,
        inbox=conversation.inbox,
        inbox_address=inbox.address,
        channel=conversation.channel,
        to_address=contact_address(settings, contact, conversation.channel),
        to_name=contact.name,
        subject=conversation.subject,
        text=message.text,
        agent_name=message.author_name,
        thread_refs=tuple(refs),
        attachments=tuple(
            AttachmentView(a.filename, a.content_type, a.size, a.data)
            for a in await uow.messages.attachments_of(message.id)
        ),
        template=meta.get("template"),
        template_params=tuple(meta.get("template_params", ())),
        auto_submitted=bool(meta.get("auto_submitted")),
        choices=tuple(meta.get("choices", ())),
        # who sent the customer's last message and who else it went to (email From/To/Cc), for reply-all
        extra={key: str(last_meta[key]) for key in ("from", "to", "cc") if last_meta.get(key)},
    )
