"""Whether Slack accepts the bot: a refused token or a missing scope is permanent, told once, and shown.

Slack answers ``invalid_auth``, ``not_authed``, ``token_revoked`` or ``account_inactive`` for a
token it does not accept and ``missing_scope`` (with the ``needed`` scope) for a method the app
was not granted (https://docs.slack.dev/reference/methods/chat.postMessage, "Errors"). Retrying
cannot help, so deliveries fail permanently (``adapters.slack.errors``); this state logs the fix
once and makes ``/readyz`` show the Slack surface as not ready until a call succeeds again.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from adapters.slack.errors import AUTH_ERRORS, delivery_error
from bot.ports import DeliveryError
from bot.runtime.health import ComponentState

__all__ = ["SlackAuth"]

log = logging.getLogger(__name__)


class SlackAuth:
    """The Slack surface's standing with Slack: fine, or the reason it refuses the bot."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def failed(self, exc: BaseException) -> DeliveryError:
        """The delivery error for ``exc``; an auth refusal is remembered and logged the first time."""
        error = delivery_error(exc)
        code = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else ""
        if code in AUTH_ERRORS and self.problem != error.reason:
            self.problem = error.reason
            log.error("Slack refuses the bot: %s", error.reason, extra={"slack_error": code})
        return error

    def succeeded(self) -> None:
        """A call went through: whatever was refused before is fixed."""
        if self.problem is not None:
            log.info("Slack accepts the bot again")
        self.problem = None

    def probe(self) -> ComponentState:
        """The readiness of the Slack surface (``bot.runtime.health.Probe``)."""
        return ComponentState(self.problem is None, self.problem or "up")
