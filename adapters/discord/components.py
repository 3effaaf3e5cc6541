"""The card's buttons and selects as persistent (dynamic) items: they work after a restart.

Each component's ``custom_id`` carries the conversation number (``tl:claim:42``);
discord.py matches it against the templates registered with
``Client.add_dynamic_items`` and calls ``callback``, which builds the typed command
(``Claim``, ``Assign``, ``LabelChange``, ``Snooze`` …) and hands it to the ``Bridge``.
No per-message state is kept in memory.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord.bridge import Bridge, built
from bot.commands.grammar import CommandError, assign_to, label_change, snooze_until
from bot.commands.model import Claim, Close, Command, Reopen, Undo
from bot.views import CardView

__all__ = [
    "SNOOZE_PRESETS",
    "AssignSelect",
    "CardButton",
    "LabelsSelect",
    "SnoozeSelect",
    "card_controls",
    "dynamic_items",
    "undo_controls",
]

SNOOZE_PRESETS: tuple[tuple[str, str], ...] = (
    ("1 hour", "1h"),
    ("4 hours", "4h"),
    ("Tomorrow 9:00", "tomorrow 9:00"),
    ("Monday 9:00", "mon 9:00"),
    ("1 week", "7d"),
)
"""(label, snooze grammar) pairs offered by the card's Snooze select (times in the inbox's zone)."""

_BUTTONS = {
    "claim": ("Claim", discord.ButtonStyle.primary),
    "close": ("Close", discord.ButtonStyle.danger),
    "reopen": ("Reopen", discord.ButtonStyle.success),
    "undo": ("Undo", discord.ButtonStyle.danger),  # on a held reply's notice (bot.outbox.undo)
}


def _bridge(interaction: discord.Interaction[Any]) -> Bridge:
    bridge = getattr(interaction.client, "bridge", None)
    if not isinstance(bridge, Bridge):
        raise RuntimeError("the Discord client has no Threadline bridge")
    return bridge


_BUTTON_ID = r"tl:(?P<action>claim|close|reopen|undo):(?P<number>\d+)"
_BUTTON_COMMANDS: dict[str, Command] = {
    "claim": Claim(),
    "close": Close(),
    "reopen": Reopen(),
    "undo": Undo(),
}


class CardButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_BUTTON_ID):
    """Claim, Close or Reopen; Undo on the notice of a reply waiting out its undo window."""

    def __init__(self, action: str, number: int) -> None:
        label, style = _BUTTONS[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=style, custom_id=f"tl:{action}:{number}", row=0
        )
        super().__init__(button)
        self.action = action
        self.number = number

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CardButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], int(match["number"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the button's command on its conversation."""
        await _bridge(interaction).answer(interaction, _BUTTON_COMMANDS[self.action], number=self.number)


class AssignSelect(discord.ui.DynamicItem[discord.ui.UserSelect[Any]], template=r"tl:assign:(?P<number>\d+)"):
    """Pick a member to assign the conversation to."""

    def __init__(self, number: int) -> None:
        select: discord.ui.UserSelect[Any] = discord.ui.UserSelect(
            custom_id=f"tl:assign:{number}", placeholder="Assign to…", min_values=1, max_values=1, row=1
        )
        super().__init__(select)
        self.number = number

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AssignSelect:
        """Rebuild the select from its custom id."""
        return cls(int(match["number"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Assign to the picked member (their Discord id is an agent identity)."""
        values = _values(interaction)
        command = built(lambda: assign_to(f"<@{values[0]}>" if values else ""))  # nobody: say who
        await _bridge(interaction).answer(interaction, command, number=self.number)


class LabelsSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"tl:labels:(?P<number>\d+)"):
    """Pick the conversation's labels among the existing ones (Discord allows 25 options)."""

    def __init__(self, number: int, select: discord.ui.Select[Any] | None = None) -> None:
        super().__init__(select or discord.ui.Select(custom_id=f"tl:labels:{number}", row=2))
        self.number = number

    @classmethod
    def build(cls, number: int, current: tuple[str, ...], known: list[str]) -> LabelsSelect | None:
        """The select with the current labels ticked; None when no label exists yet."""
        names = list(dict.fromkeys([*current, *known]))[:25]
        if not names:
            return None
        options = [discord.SelectOption(label=n[:100], value=n[:100], default=n in current) for n in names]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"tl:labels:{number}",
            placeholder="Labels…",
            min_values=0,
            max_values=len(options),
            options=options,
            row=2,
        )
        return cls(number, select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LabelsSelect:
        """Rebuild the select (with the options shown on the card) from the message."""
        return cls(int(match["number"]), item if isinstance(item, discord.ui.Select) else None)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Add the newly ticked labels and remove the unticked ones that were offered."""
        bridge = _bridge(interaction)
        offered = {option.value for option in self.item.options}
        chosen = set(_values(interaction))
        current = set(await bridge.labels_of(str(interaction.channel_id)))
        added, removed = sorted(chosen - current), sorted((offered & current) - chosen)
        if not added and not removed:
            await bridge.say(interaction, "Labels unchanged.")
            return
        try:
            command = label_change(added, removed)
        except CommandError as exc:  # an offered label the grammar would refuse
            await bridge.say(interaction, str(exc), ok=False)
            return
        await bridge.answer(interaction, command, number=self.number)


class SnoozeSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"tl:snooze:(?P<number>\d+)"):
    """Snooze for one of the presets."""

    def __init__(self, number: int) -> None:
        options = [discord.SelectOption(label=label, value=spec) for label, spec in SNOOZE_PRESETS]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"tl:snooze:{number}", placeholder="Snooze…", options=options, row=3
        )
        super().__init__(select)
        self.number = number

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SnoozeSelect:
        """Rebuild the select from its custom id."""
        return cls(int(match["number"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Snooze until the picked preset."""
        values = _values(interaction)
        command = built(lambda: snooze_until(values[0] if values else ""))  # nothing: say until when
        await _bridge(interaction).answer(interaction, command, number=self.number)


def _values(interaction: discord.Interaction[Any]) -> list[str]:
    data: Any = interaction.data or {}
    return [str(v) for v in data.get("values", [])]


def dynamic_items() -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """Every card component class, to register with ``Client.add_dynamic_items``."""
    return (CardButton, AssignSelect, LabelsSelect, SnoozeSelect)


def card_controls(card: CardView, known_labels: list[str]) -> discord.ui.View:
    """The card's components: Claim and Close/Reopen; Assign; Labels; Snooze (not on closed conversations)."""
    view = discord.ui.View(timeout=None)
    view.add_item(CardButton("claim", card.number))
    view.add_item(CardButton("reopen" if card.status in ("closed", "snoozed") else "close", card.number))
    if card.status == "snoozed":
        view.add_item(CardButton("close", card.number))
    view.add_item(AssignSelect(card.number))
    labels = LabelsSelect.build(card.number, card.labels, known_labels)
    if labels is not None:
        view.add_item(labels)
    if card.status != "closed":
        view.add_item(SnoozeSelect(card.number))
    return view


def undo_controls(number: int) -> discord.ui.View:
    """The Undo button of a held reply's "sending in 10 s" notice."""
    view = discord.ui.View(timeout=None)
    view.add_item(CardButton("undo", number))
    return view
