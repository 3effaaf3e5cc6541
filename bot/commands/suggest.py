"""Read-only suggestions for surfaces' pickers and autocomplete: label names, a conversation's labels.

Surfaces call these instead of touching storage; answers are small (Discord and
Slack show at most 25 choices) and cheap enough to answer within 3 seconds.
"""

from __future__ import annotations

from bot.automation.templates import list_templates
from bot.config import Settings
from storage import Store

__all__ = ["MAX_CHOICES", "conversation_labels", "label_names", "template_names"]

MAX_CHOICES = 25
"""Discord's (and Slack's) limit of choices in one autocomplete answer or select menu."""


async def label_names(store: Store, prefix: str = "", limit: int = MAX_CHOICES) -> list[str]:
    """Existing label names, most used on open conversations first, filtered by a case-insensitive prefix."""
    needle = prefix.strip().lstrip("+-").lower()
    async with store.transaction() as uow:
        usage = await uow.labels.label_usage()
    ranked = sorted(usage, key=lambda item: (-item[1], item[0].lower()))
    names = [name for name, _ in ranked if name.lower().startswith(needle)]
    if needle:
        names += [name for name, _ in ranked if needle in name.lower() and name not in names]
    return names[:limit]


async def conversation_labels(store: Store, surface: str, thread_id: str) -> list[str]:
    """The labels of the conversation mirrored in ``thread_id`` on ``surface`` (empty when none is)."""
    async with store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_thread(surface, thread_id)
        if conversation is None:
            return []
        return await uow.labels.labels_of(conversation.id)


async def template_names(
    store: Store, settings: Settings, prefix: str = "", limit: int = MAX_CHOICES
) -> list[str]:
    """Canned replies and approved WhatsApp templates whose name starts with (or contains) ``prefix``."""
    needle = prefix.strip().lower()
    async with store.transaction() as uow:
        names = [t.name for t in await list_templates(uow, settings)]
    for channel in sorted(settings.channel_names()):
        names += [name for name in settings.approved_templates(channel) if name not in names]
    starting = [n for n in names if n.lower().startswith(needle)]
    return (starting + [n for n in names if needle in n.lower() and n not in starting])[:limit]
