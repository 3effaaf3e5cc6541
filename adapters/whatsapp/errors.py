"""What Meta's error codes mean for the team: whether sending the same reply again can help.

Codes from "Error codes" (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)
and "Business-scoped user IDs" (131062).
"""

from __future__ import annotations

from bot.ports import Remedy

__all__ = ["remedy_for"]

_TEMPLATE: frozenset[int] = frozenset({131047})  # the 24-hour window closed: only a template goes through
_HOPELESS: frozenset[int] = frozenset(
    {
        100,  # invalid parameter: the same request fails the same way
        131021,  # recipient cannot be the sender
        131026,  # undeliverable: not on WhatsApp, old app, or has not accepted the terms
        131051,  # unsupported message type
        131052,  # media download error
        131053,  # media upload error: unsupported type or size
        131062,  # business-scoped user ids are not supported for this message
        132000,  # template parameter count mismatch
        132001,  # template does not exist
        132005,  # translated text too long
        132007,  # template format character policy violated
        132012,  # template parameter format mismatch
    }
)


def remedy_for(code: int | None) -> Remedy:
    """What can help after Meta refused a message with ``code``."""
    if code in _TEMPLATE:
        return "template"
    if code in _HOPELESS:
        return "none"
    return "retry"
