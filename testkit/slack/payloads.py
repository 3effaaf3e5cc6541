"""Inbound payloads as Slack sends them: slash command, events, block_actions, options, shortcut, modal.

Text in message events and slash commands is what the agent typed, put into Slack's wire format by
``as_slack_sends``: Slack escapes ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;``, ``&gt;`` and sends
links, mentions and specials as control sequences ``<https://x|label>``, ``<mailto:a@b|a@b>``,
``<#C123|name>``, ``<@U123>``, ``<!here>`` (https://docs.slack.dev/messaging/formatting-message-text,
"Escaping text" and "Retrieving messages"). The typed text writes those sequences literally.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from testkit.slack.fake import BOT_USER
from testkit.slack.signing import form, signed_request, trigger_id

__all__ = [
    "app_home_opened",
    "as_slack_sends",
    "block_action",
    "event_callback",
    "event_request",
    "home_action",
    "label_options",
    "message_event",
    "reaction_body",
    "reaction_event",
    "shortcut",
    "slash",
    "slash_fields",
    "view_submission",
]

_ids = itertools.count(1)
FORM = "application/x-www-form-urlencoded"
TEAM = {"id": "T1", "domain": "acme"}
_CONTROL = re.compile(r"<(?:https?://|mailto:|#C|@[UW]|!)[^<>]*>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_slack_sends(typed: str) -> str:
    """The wire form of ``typed``: ``&<>`` escaped, control sequences kept with ``&`` inside them escaped."""
    out, last = [], 0
    for match in _CONTROL.finditer(typed):
        out.append(_escape(typed[last : match.start()]))
        out.append(match.group(0).replace("&", "&amp;"))
        last = match.end()
    out.append(_escape(typed[last:]))
    return "".join(out)


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """``event`` in the Events API wrapper Slack posts it in (``type`` ``event_callback``).

    The wrapper of https://docs.slack.dev/reference/objects/event-object (required: ``token``,
    ``team_id``, ``api_app_id``, ``event``, ``type``, ``event_id``, ``event_time``, per
    https://api.slack.com/types/event) with ``authorizations`` (one installation the event is
    visible to: the bot), ``is_ext_shared_channel`` and ``event_context``, as Slack sends them now
    (https://docs.slack.dev/reference/methods/apps.event.authorizations.list). ``event_id`` is unique
    per delivery unless given (a retry of one delivery repeats it).
    """
    number = next(_ids)
    return {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{number:08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T1",
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": "user_team" in event,
        "event_context": f"4-ctx{number:08d}",
    }


def event_request(event: dict[str, Any], *, event_id: str | None = None) -> AsyncBoltRequest:
    """A signed Events API request (JSON) of ``event_callback(event)``, as Slack posts it in HTTP mode."""
    body = event_callback(event, event_id=event_id)
    return signed_request(json.dumps(body), content_type="application/json")


def slash_fields(
    text: str,
    *,
    user: str = "UALICE",
    channel: str = "C_SUPPORT",
    channel_name: str = "support",
    response_url: str = "",
    command: str = "/inbox",
) -> dict[str, str]:
    """The form fields of a slash command as Slack posts them
    (https://docs.slack.dev/interactivity/implementing-slash-commands), ``text`` in wire form."""
    return {
        "token": "legacy",
        "team_id": "T1",
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": as_slack_sends(text),
        "api_app_id": "A1",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def slash(
    text: str,
    *,
    user: str = "UALICE",
    channel: str = "C_SUPPORT",
    response_url: str = "",
    command: str = "/inbox",
) -> AsyncBoltRequest:
    """A slash command request (form-encoded) of ``slash_fields``."""
    fields = slash_fields(text, user=user, channel=channel, response_url=response_url, command=command)
    return signed_request(form(fields), content_type=FORM)


def message_event(
    text: str,
    *,
    user: str | None = "UALICE",
    channel: str = "C_SUPPORT",
    thread_ts: str | None,
    event_id: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> AsyncBoltRequest:
    """An Events API ``message`` event (JSON); with ``files`` a ``file_share`` as Slack sends it."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": as_slack_sends(text),
        "ts": ts or f"1800000000.{next(_ids):06d}",
        "channel_type": "channel",
    }
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
    if bot_id:
        event["bot_id"] = bot_id
    if subtype:
        event["subtype"] = subtype
    if files:
        event.update(subtype=subtype or "file_share", files=files, upload=False)
    return event_request(event, event_id=event_id)


def _interactive(payload: dict[str, Any]) -> AsyncBoltRequest:
    return signed_request(form({"payload": json.dumps(payload)}), content_type=FORM)


def block_action(
    action: dict[str, Any], *, card: dict[str, Any], user: str = "UALICE", response_url: str = ""
) -> AsyncBoltRequest:
    """A ``block_actions`` request from a click on ``card`` (a message as the fake stored it)."""
    action = {"action_ts": str(time.time()), **action}
    return _interactive(
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "team": TEAM,
            "trigger_id": trigger_id(),
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": card["channel"]},
            "channel": {"id": card["channel"], "name": "support"},
            "message": {
                "type": "message",
                "ts": card["ts"],
                "text": card.get("text"),
                "blocks": card.get("blocks"),
            },
            "response_url": response_url,
            "actions": [action],
        }
    )


def label_options(value: str, *, card_number: int, user: str = "UALICE") -> AsyncBoltRequest:
    """A ``block_suggestion`` (options) request of the Labels menu."""
    return _interactive(
        {
            "type": "block_suggestion",
            "user": {"id": user, "name": user.lower(), "team_id": "T1"},
            "team": TEAM,
            "api_app_id": "A1",
            "token": "legacy",
            "action_id": "tl_labels",
            "block_id": f"tl_card:{card_number}",
            "value": value,
            "container": {"type": "message"},
        }
    )


def shortcut(message: dict[str, Any], *, user: str = "UALICE", response_url: str = "") -> AsyncBoltRequest:
    """The "Reply to customer…" message shortcut on ``message``."""
    return _interactive(
        {
            "type": "message_action",
            "callback_id": "tl_reply_shortcut",
            "trigger_id": trigger_id(),
            "user": {"id": user, "name": user.lower()},
            "team": TEAM,
            "token": "legacy",
            "action_ts": str(time.time()),
            "channel": {"id": message["channel"], "name": "support"},
            "message_ts": message["ts"],
            "message": {
                "type": "message",
                "ts": message["ts"],
                "text": message.get("text", ""),
                **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
            },
            "response_url": response_url,
        }
    )


def view_submission(
    view: dict[str, Any], text: str, *, user: str = "UALICE", confirm: bool = False
) -> AsyncBoltRequest:
    """Submitting the reply modal ``view`` (as opened by views.open) with ``text``."""
    values: dict[str, Any] = {"reply": {"text": {"type": "plain_text_input", "value": text}}}
    values["confirm"] = {
        "confirm": {"type": "checkboxes", "selected_options": [{"value": "confirm"}] if confirm else []}
    }
    return _interactive(
        {
            "type": "view_submission",
            "team": TEAM,
            "user": {"id": user, "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": trigger_id(),
            "view": {**view, "id": "V1", "team_id": "T1", "state": {"values": values}},
        }
    )


def reaction_event(
    message: dict[str, Any],
    reaction: str,
    *,
    user: str = "UALICE",
    removed: bool = False,
    event_id: str | None = None,
) -> AsyncBoltRequest:
    """A signed Events API request of ``reaction_body`` (HTTP mode)."""
    body = reaction_body(message, reaction, user=user, removed=removed, event_id=event_id)
    return signed_request(json.dumps(body), content_type="application/json")


def reaction_body(
    message: dict[str, Any],
    reaction: str,
    *,
    user: str = "UALICE",
    removed: bool = False,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A ``reaction_added`` (or ``reaction_removed``) event callback for ``message`` as the fake stored it.

    The shape of https://api.slack.com/events/reaction_added (and /events/reaction_removed):
    ``user``, ``reaction`` (the short name, a skin tone as ``::skin-tone-2``), ``item_user`` (who
    wrote the message), ``item`` ``{"type": "message", "channel", "ts"}`` and ``event_ts``;
    the message's thread is not named.
    """
    event = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": message.get("user") or BOT_USER,
        "item": {"type": "message", "channel": message["channel"], "ts": message["ts"]},
        "event_ts": f"{time.time():.6f}",
    }
    return event_callback(event, event_id=event_id)


def app_home_opened(user: str = "UALICE", *, tab: str = "home") -> AsyncBoltRequest:
    """An ``app_home_opened`` event (https://api.slack.com/events/app_home_opened): ``user``,
    ``channel`` (the app's DM with them), ``tab`` (``home`` or ``messages``), ``event_ts``; ``view``
    when a Home was published before (left out here: the first opening)."""
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    return event_request(event)


def home_action(view: dict[str, Any], action_id: str, *, user: str = "UALICE") -> AsyncBoltRequest:
    """A ``block_actions`` request from a button of a published Home view (container ``view``, no channel)."""
    button = next(
        b["accessory"] for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == action_id
    )
    return _interactive(
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "team": TEAM,
            "trigger_id": trigger_id(),
            "container": {"type": "view", "view_id": f"VH{user}"},
            "view": {"id": f"VH{user}", "type": "home", "team_id": "T1", "blocks": view["blocks"]},
            "actions": [{**button, "block_id": "b1", "action_ts": str(time.time())}],
        }
    )
