"""The app (slash) commands: each hands the ``Bridge`` a typed command built from its options, never
text rebuilt for the grammar. Options the grammar would read (``/template``'s quoted parameters,
``/snooze``'s time, ``/inbox help``'s topic, ``/label``'s names) go through the core's command
builders (``bot.commands.grammar``); what they refuse is answered as the refusal, after the check of
who may act, so an option is never re-read as another part of a command (``#2`` as a conversation).

Used inside a conversation thread they act on that conversation; elsewhere the core
answers where to use them. ``/inbox list|labels|help`` work anywhere.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord.bridge import Bridge, built
from adapters.discord.components import SNOOZE_PRESETS
from bot.commands.grammar import help_on, label_change, snooze_until, template_send
from bot.commands.model import (
    Assign,
    Claim,
    Close,
    Command,
    History,
    Labels,
    ListConversations,
    Note,
    Priority,
    Queue,
    Reopen,
    ReplyToCustomer,
    Retry,
    Summary,
    Unassign,
)

__all__ = ["TextModal", "label_words", "register_commands"]

log = logging.getLogger(__name__)
Choice = app_commands.Choice


def label_words(text: str | None) -> list[str]:
    """Labels typed in one option: separated by spaces or commas, signs dropped."""
    return [w.lstrip("+-") for w in re.split(r"[\s,]+", text or "") if w.lstrip("+-")]


class TextModal(discord.ui.Modal):
    """A multi-line text box for ``/reply`` and ``/note`` given without text (slash options are one line)."""

    def __init__(self, bridge: Bridge, command: Callable[[str], Command], title: str, label: str) -> None:
        super().__init__(title=title, timeout=900)
        self.bridge = bridge
        self.command = command  # the typed command of the text
        self.text: discord.ui.TextInput[TextModal] = discord.ui.TextInput(
            label=label, style=discord.TextStyle.paragraph, max_length=4000
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Run the command with the typed text (never re-read by the grammar)."""
        await self.bridge.answer(interaction, self.command(self.text.value))


def register_commands(tree: app_commands.CommandTree[Any], bridge: Bridge) -> None:
    """Add every Threadline command to ``tree``."""

    async def run(interaction: discord.Interaction[Any], build: Callable[[], Command]) -> None:
        """Answer the command ``build`` makes of the options, or its refusal of them."""
        await bridge.answer(interaction, built(build))

    async def label_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        names = await bridge.labels(current)
        typed = current.strip().lstrip("+-")
        if typed and typed not in names:
            names = [typed, *names]
        return [Choice(name=n[:100], value=n[:100]) for n in names[:25]]

    async def own_label_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        names = await bridge.labels_of(str(interaction.channel_id))
        return [Choice(name=n[:100], value=n[:100]) for n in names if current.lower() in n.lower()][:25]

    async def snooze_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        picks = [Choice(name=f"{label} ({spec})", value=spec) for label, spec in SNOOZE_PRESETS]
        if current.strip():
            picks = [Choice(name=current.strip()[:100], value=current.strip()[:100]), *picks]
        return picks[:25]

    async def template_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        names = await bridge.templates(current) if bridge.templates is not None else []
        return [Choice(name=n[:100], value=n[:100]) for n in names[:25]]

    @tree.command(name="claim", description="Assign this conversation to yourself")
    async def claim(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Claim())

    @tree.command(name="assign", description="Assign this conversation to a teammate")
    @app_commands.describe(member="the teammate who takes it")
    async def assign(interaction: discord.Interaction[Any], member: discord.Member) -> None:
        await bridge.answer(interaction, Assign(f"<@{member.id}>"))

    @tree.command(name="unassign", description="Remove the assignee")
    async def unassign(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Unassign())

    @tree.command(name="label", description="Add and remove labels (new labels are created)")
    @app_commands.describe(add="labels to add", remove="labels to remove")
    @app_commands.autocomplete(add=label_choices, remove=own_label_choices)
    async def label(
        interaction: discord.Interaction[Any], add: str | None = None, remove: str | None = None
    ) -> None:
        await run(interaction, functools.partial(label_change, label_words(add), label_words(remove)))

    @tree.command(name="note", description="Add an internal note (the customer never sees it)")
    @app_commands.describe(text="the note; leave empty for a multi-line box")
    async def note(interaction: discord.Interaction[Any], text: str | None = None) -> None:
        if not text:
            await interaction.response.send_modal(TextModal(bridge, Note, "Internal note", "Note"))
            return
        await bridge.answer(interaction, Note(text))

    @tree.command(name="reply", description="Send a reply to the customer")
    @app_commands.describe(
        text="what the customer receives; leave empty for a multi-line box",
        confirm="reply even if someone else has it",
    )
    async def reply(
        interaction: discord.Interaction[Any], text: str | None = None, confirm: bool = False
    ) -> None:
        if not text:
            typed = functools.partial(ReplyToCustomer, confirm=confirm)
            modal = TextModal(bridge, typed, "Reply to the customer", "Reply")
            await interaction.response.send_modal(modal)
            return
        await bridge.answer(interaction, ReplyToCustomer(text, confirm=confirm))

    @tree.command(name="template", description="Send a canned reply (on WhatsApp: an approved template)")
    @app_commands.describe(name="the template", params="parameters, space-separated; quote multi-word ones")
    @app_commands.autocomplete(name=template_choices)
    async def template(interaction: discord.Interaction[Any], name: str, params: str | None = None) -> None:
        await run(interaction, functools.partial(template_send, name, params or ""))

    @tree.command(name="snooze", description="Hide until then, or until the customer writes")
    @app_commands.describe(until="2h, 30m, tomorrow 9:00, mon 9:00 … (the inbox's time zone)")
    @app_commands.autocomplete(until=snooze_choices)
    async def snooze(interaction: discord.Interaction[Any], until: str) -> None:
        await run(interaction, functools.partial(snooze_until, until))

    @tree.command(name="close", description="Close the conversation")
    async def close(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Close())

    @tree.command(name="reopen", description="Reopen the conversation")
    async def reopen(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Reopen())

    @tree.command(name="history", description="This customer's other conversations")
    async def history(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, History())

    @tree.command(name="retry", description="Send failed replies again")
    async def retry(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Retry())

    @tree.command(name="priority", description="Set the priority")
    async def priority(
        interaction: discord.Interaction[Any], level: Literal["urgent", "high", "normal", "low"]
    ) -> None:
        await bridge.answer(interaction, Priority(level))

    @tree.command(name="queue", description="Your queue: yours, unassigned, and those breaching soon")
    async def queue(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Queue())

    @tree.command(name="summary", description="Post the hand-over summary of this conversation")
    async def summary(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Summary())

    inbox = app_commands.Group(name="inbox", description="Threadline: lists and help, anywhere")

    @inbox.command(name="list", description="List conversations")
    async def list_(
        interaction: discord.Interaction[Any],
        which: Literal["mine", "unassigned", "open", "snoozed", "closed", "all"] = "open",
    ) -> None:
        await bridge.answer(interaction, ListConversations(which))

    @inbox.command(name="labels", description="The labels in use")
    async def labels(interaction: discord.Interaction[Any]) -> None:
        await bridge.answer(interaction, Labels())

    @inbox.command(name="help", description="The commands")
    async def help_(interaction: discord.Interaction[Any], command: str | None = None) -> None:
        await run(interaction, functools.partial(help_on, command))

    tree.add_command(inbox)

    @tree.error
    async def on_error(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        log.error("discord app command failed", exc_info=error, extra={"interaction": interaction.id})
        await bridge.say(interaction, "Something went wrong; the error is in Threadline's log.", ok=False)
