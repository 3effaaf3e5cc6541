"""Card buttons and menus, the Labels menu's options, and the "Reply to customer…" shortcut and modal.

A button or menu becomes a typed command (``Claim``, ``Assign``, ``LabelChange`` … for
its card's conversation) and the reply modal's free text a typed ``ReplyToCustomer``,
handed to the core's ``CommandPort.execute``: never text re-read by the grammar, so words
like ``--confirm`` stay the agent's. What the core decides is shown in the thread and on
the card by the outbox, and the clicking user gets an ephemeral answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.inbound import SlackInbound
from adapters.slack.render import (
    ACTION_ASSIGN,
    ACTION_CLAIM,
    ACTION_CLOSE,
    ACTION_LABELS,
    ACTION_REOPEN,
    ACTION_SNOOZE,
    ACTION_UNDO,
    card_number,
    escape,
)
from adapters.slack.split import clip_escaped
from adapters.slack.wire import decode
from bot.commands import Location
from bot.commands.grammar import CommandError, label_change
from bot.commands.model import (
    Assign,
    Claim,
    Close,
    Command,
    ParsedCommand,
    Reopen,
    ReplyToCustomer,
    Snooze,
    Undo,
)

__all__ = ["REPLY_MODAL", "REPLY_SHORTCUT", "SlackInteractions", "label_slug", "notice_modal", "reply_modal"]

log = logging.getLogger(__name__)
REPLY_SHORTCUT = "tl_reply_shortcut"
REPLY_MODAL = "tl_reply_modal"
_ACTIONS = re.compile(r"^tl_(claim|assign|labels|snooze|close|reopen|undo)$")
_BUTTONS: dict[str, Command] = {
    ACTION_CLAIM: Claim(),
    ACTION_CLOSE: Close(),
    ACTION_REOPEN: Reopen(),
    ACTION_UNDO: Undo(),
}
Ack = Callable[..., Awaitable[Any]]


def label_slug(text: str) -> str:
    """A label name typed in the Labels menu, in the form the grammar accepts (no spaces, no +/-)."""
    return re.sub(r"[^\w.:/-]+", "-", text.strip().lower()).strip("-+")[:60]


def reply_modal(channel: str, thread_ts: str, excerpt: str) -> dict[str, Any]:
    """The "Reply to customer" modal (``excerpt`` is plain text); ``private_metadata`` names its thread."""
    blocks: list[dict[str, Any]] = []
    if excerpt:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Replying in the thread of: " + clip_escaped(escape(excerpt), 280),
                    }
                ],
            }
        )
    blocks += [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Reply to the customer"},
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": 3000,
            },
        },
        {
            "type": "input",
            "block_id": "confirm",
            "optional": True,
            "label": {"type": "plain_text", "text": "Assigned to someone else?"},
            "element": {
                "type": "checkboxes",
                "action_id": "confirm",
                "options": [{"text": {"type": "plain_text", "text": "Send anyway"}, "value": "confirm"}],
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": REPLY_MODAL,
        "title": {"type": "plain_text", "text": "Reply to customer"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel": channel, "thread_ts": thread_ts}),
        "blocks": blocks,
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only tells something (mrkdwn ``text``), with a Close button."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip_escaped(text, 3000)}}],
    }


def _current_labels(body: dict[str, Any]) -> list[str]:
    """The labels the card showed when clicked (the menu's initial options)."""
    for block in (body.get("message") or {}).get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == ACTION_LABELS:
                return [o["value"] for o in element.get("initial_options") or []]
    return []


class SlackInteractions:
    """Registers the interactive listeners on the inbound half's bolt app."""

    def __init__(self, inbound: SlackInbound) -> None:
        self.inbound = inbound
        app = inbound.app
        app.action(_ACTIONS)(self._on_action)
        app.options(ACTION_LABELS)(self._on_label_options)
        app.shortcut(REPLY_SHORTCUT)(self._on_shortcut)
        app.view(REPLY_MODAL)(self._on_submit)
        inbound.replayers.update(action=self._replay_action, modal=self._replay_submit)

    # --- card buttons and menus -----------------------------------------------------------------

    async def _on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        key = f"{body.get('trigger_id')}:{action.get('action_id')}" if body.get("trigger_id") else None
        await self.inbound.journaled("action", {"body": body, "action": action}, key)
        await ack()

    async def _replay_action(self, work: dict[str, Any], journal_id: int) -> None:
        await self._action(work["body"], work["action"], journal_id)

    def command_for(self, body: dict[str, Any], action: dict[str, Any]) -> ParsedCommand | None:
        """The typed command a card interaction stands for, or None when it changes nothing.

        Raises ``CommandError`` for a label name the grammar would refuse."""
        value = action.get("value")
        number = int(value) if value and str(value).isdigit() else card_number(action.get("block_id"))
        if number is None:
            return None
        kind = action.get("action_id")
        command: Command | None = None
        if kind in _BUTTONS:
            command = _BUTTONS[kind]
        elif kind == ACTION_ASSIGN and action.get("selected_user"):
            command = Assign(f"@{action['selected_user']}")
        elif kind == ACTION_SNOOZE and action.get("selected_option"):
            command = Snooze(str(action["selected_option"]["value"]))
        elif kind == ACTION_LABELS:
            chosen = [label_slug(o["value"]) for o in action.get("selected_options") or []]
            before = _current_labels(body)
            added = [n for n in chosen if n and n not in before]
            removed = [n for n in before if n not in chosen]
            command = label_change(added, removed) if added or removed else None
        return ParsedCommand(command, number) if command is not None else None

    async def _action(self, body: dict[str, Any], action: dict[str, Any], journal_id: int) -> None:
        user = body.get("user") or {}
        user_id, url = str(user.get("id", "")), body.get("response_url")
        channel = (body.get("channel") or {}).get("id")
        actor = await self.inbound.acting(user_id, user.get("name"))
        if actor is None:
            await self.inbound.answer(
                self.inbound.directory.refusal(), response_url=url, channel=channel, user=user_id
            )
            return
        try:
            parsed = self.command_for(body, action)
        except CommandError as exc:
            await self.inbound.answer(str(exc), response_url=url, channel=channel, user=user_id)
            return
        if parsed is None:
            return
        if action.get("action_id") == ACTION_ASSIGN and self.inbound.register is not None:
            target = str(action["selected_user"])
            if await self.inbound.directory.may_act(target):
                await self.inbound.register(await self.inbound.directory.actor(target))
        reply = await self.inbound.execute(actor, parsed, Location("slack", journal_id=journal_id))
        await self.inbound.answer(
            self.inbound.reply_text(reply), response_url=url, channel=channel, user=user_id
        )

    async def _on_label_options(self, ack: Ack, body: dict[str, Any]) -> None:
        query = label_slug(str(body.get("value") or ""))
        existing = await self.inbound.labels()
        matches = [name for name in existing if query in name.lower()][:99]
        options = [{"text": {"type": "plain_text", "text": name[:75]}, "value": name} for name in matches]
        if query and query not in existing:
            options.append(
                {"text": {"type": "plain_text", "text": f"+ create “{query}”"[:75]}, "value": query}
            )
        await ack(options=options)

    # --- shortcut and modal --------------------------------------------------------------------

    async def _on_shortcut(self, ack: Ack, body: dict[str, Any]) -> None:
        # not journaled: it only opens the modal (no effect), and its trigger_id expires within 3 s
        self.inbound.spawn(self._shortcut(body), "shortcut")
        await ack()

    async def _shortcut(self, body: dict[str, Any]) -> None:
        """Open the modal first (its ``trigger_id`` dies 3 s after the click), then check membership."""
        user_id = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
        view = reply_modal(channel, thread_ts, decode(str(message.get("text") or "")))
        opened = await self.inbound.client.views_open(trigger_id=body["trigger_id"], view=view)
        if await self.inbound.directory.may_act(user_id):
            return
        refusal = notice_modal("Reply to customer", self.inbound.directory.refusal())
        await self.inbound.client.views_update(view_id=str(opened["view"]["id"]), view=refusal)

    async def _on_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get("reply") or {}).get("text") or {}).get("value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"reply": "Write the reply first."})
            return
        confirm = bool(((values.get("confirm") or {}).get("confirm") or {}).get("selected_options"))
        meta = json.loads(view.get("private_metadata") or "{}")
        user = body.get("user") or {}
        work = {
            "user_id": str(user.get("id", "")),
            "name": user.get("name"),
            "meta": meta,
            "text": text,
            "confirm": confirm,
        }
        await self.inbound.journaled("modal", work, body.get("trigger_id"))
        await ack()  # closes the modal

    async def _replay_submit(self, work: dict[str, Any], journal_id: int) -> None:
        await self._submit(
            work["user_id"], work["name"], work["meta"], work["text"], bool(work["confirm"]), journal_id
        )

    async def _submit(
        self, user_id: str, name: str | None, meta: dict[str, Any], text: str, confirm: bool, journal_id: int
    ) -> None:
        channel, thread_ts = meta.get("channel"), meta.get("thread_ts")
        actor = await self.inbound.acting(user_id, name)
        if actor is None:
            await self.inbound.answer(
                self.inbound.directory.refusal(), channel=channel, user=user_id, thread_ts=thread_ts
            )
            return
        where = Location("slack", thread_id=thread_ts, journal_id=journal_id)
        reply = await self.inbound.execute(
            actor, ParsedCommand(ReplyToCustomer(text, confirm=confirm)), where
        )
        await self.inbound.answer(
            self.inbound.reply_text(reply), channel=channel, user=user_id, thread_ts=thread_ts
        )
