"""The fake Slack's ``views.*`` methods: modals opened on a ``trigger_id``, the App Home tab published.

A ``trigger_id`` works once and only within 3 seconds of the interaction
(https://docs.slack.dev/interactivity/handling-user-interaction: "trigger_id ... expires in 3 seconds");
``views.open`` then answers ``expired_trigger_id`` or ``exchanged_trigger_id``
(https://docs.slack.dev/reference/methods/views.open, "Errors"). ``views.publish`` takes a Home tab view
only (``type`` ``home``, at most 100 blocks, the blocks' own limits: ``testkit/slack/rules.py``) for a
user of the workspace, and keeps the last one per user in ``homes``
(https://docs.slack.dev/reference/methods/views.publish).
"""

from __future__ import annotations

import time
from typing import Any

from testkit.slack.rules import home_view_error, view_error

__all__ = ["TRIGGER_SECONDS", "Views"]

TRIGGER_SECONDS = 3.0


class Views:
    """The ``views.*`` handlers of ``FakeSlack`` (which holds the state named here)."""

    users: dict[str, dict[str, Any]]
    homes: dict[str, dict[str, Any]]
    trigger_seconds: float
    used_triggers: set[str]

    def view_refusal(self, method: str, args: dict[str, Any]) -> str | None:
        """Why Slack refuses the view of this ``views.*`` call with ``invalid_arguments``, if it does."""
        if method in ("views.open", "views.update"):
            return view_error(args.get("view"))
        if method == "views.publish":
            return home_view_error(args.get("view")) or self._publish_error(args)
        return None

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        parts = trigger.split(".")
        try:
            issued = float(".".join(parts[1:3]))
        except ValueError:
            return {"ok": False, "error": "invalid_trigger_id"}
        if trigger in self.used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        if time.time() - issued > self.trigger_seconds:
            return {"ok": False, "error": "expired_trigger_id"}
        self.used_triggers.add(trigger)
        return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}

    def _publish_error(self, args: dict[str, Any]) -> str | None:
        """views.publish needs the ``user_id`` of a workspace user (reference/methods/views.publish)."""
        return (
            None if str(args.get("user_id") or "") in self.users else "user_id is not a user of the workspace"
        )

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view") or {}
        self.homes[str(args["user_id"])] = view
        return {"ok": True, "view": {"id": f"VH{args['user_id']}", "team_id": "T1", **view}}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": args.get("view_id"), **(args.get("view") or {})}}
