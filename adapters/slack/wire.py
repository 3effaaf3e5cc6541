"""Slack's wire format of message and slash-command text, decoded once into plain text.

Slack sends what a user typed escaped (``&amp;``, ``&lt;``, ``&gt;``) with links, mentions and
specials as control sequences: ``<https://x|label>``, ``<mailto:a@b|a@b>``, ``<#C123|name>``,
``<@U123>``, ``<!here>``, ``<!subteam^S1|@team>``, ``<!date^…|fallback>``
(https://docs.slack.dev/messaging/formatting-message-text). ``decode`` turns that into the text
the agent meant: entities unescaped, a link as ``label (url)`` or the bare URL, a mail link as the
address, channels as ``#name``, users as ``@name``, specials as ``@here``. Nothing downstream
unescapes again, so a reply reaches the customer exactly as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["decode", "unescape", "unnamed_users"]

_CONTROL = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")


def unescape(text: str) -> str:
    """Undo Slack's escaping of exactly ``&``, ``<`` and ``>`` (``&amp;`` last, so it is undone once)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def unnamed_users(wire: str) -> list[str]:
    """The user ids mentioned without a label (``<@U123>``), whose names ``decode`` needs."""
    return list(dict.fromkeys(_USER.findall(wire)))


def _link(url: str, label: str) -> str:
    bare = url.split("://", 1)[-1]
    if not label or label in (url, bare, bare.rstrip("/")):
        return url
    return f"{label} ({url})"


def _special(target: str, label: str) -> str:
    name = target[1:]
    if name.startswith(("date^", "subteam^")) and label:
        return label if label.startswith("@") or name.startswith("date^") else "@" + label
    return "@" + name.split("^", 1)[-1]


def _control(body: str, names: Mapping[str, str], user_ids: bool) -> str:
    target, _, label = body.partition("|")
    target, label = unescape(target), unescape(label)
    if target.startswith("@"):
        user = target[1:]
        return "@" + (user if user_ids else label or names.get(user, user))
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _special(target, label)
    if target.startswith("mailto:"):
        address = target.removeprefix("mailto:")
        return address if not label or label == address else f"{label} ({address})"
    return _link(target, label)


def decode(wire: str, names: Mapping[str, str] | None = None, *, user_ids: bool = False) -> str:
    """Plain text from Slack's wire text; ``names`` maps user ids to display names.

    With ``user_ids`` a user mention stays ``@U123`` (the form the core's ``assign`` resolves
    by identity) instead of ``@name``.
    """
    names = names or {}
    out: list[str] = []
    last = 0
    for match in _CONTROL.finditer(wire):
        out.append(unescape(wire[last : match.start()]))
        out.append(_control(match.group(1), names, user_ids))
        last = match.end()
    out.append(unescape(wire[last:]))
    return "".join(out)
