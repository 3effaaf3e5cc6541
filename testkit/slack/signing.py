"""Inbound requests as Slack signs them, and the ``trigger_id`` Slack puts into interactions.

Slack signs every request it sends: ``X-Slack-Signature`` is ``v0=`` and the HMAC-SHA256 of
``v0:{X-Slack-Request-Timestamp}:{body}`` under the app's signing secret
(https://docs.slack.dev/authentication/verifying-requests-from-slack). A ``trigger_id`` works once and
only within 3 seconds of the interaction (https://docs.slack.dev/interactivity/handling-user-interaction);
this one carries the moment it was issued, so the fake's ``views.open`` can tell (``testkit/slack/views.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request.async_request import AsyncBoltRequest

__all__ = ["SECRET", "form", "signed_headers", "signed_request", "trigger_id"]

SECRET = "test-signing-secret"
_triggers = itertools.count(1)


def trigger_id(issued: float | None = None) -> str:
    """A ``trigger_id`` as Slack puts into an interaction payload; it carries the moment it was issued."""
    return f"{next(_triggers)}.{time.time() if issued is None else issued:.3f}.fake"


def signed_headers(
    body: str,
    *,
    content_type: str,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> dict[str, str]:
    """The headers Slack sends with ``body``: ``X-Slack-Signature`` is ``v0=`` HMAC-SHA256 of
    ``v0:{timestamp}:{body}`` under the signing secret
    (https://docs.slack.dev/authentication/verifying-requests-from-slack)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or f"v0={digest}",
    }


def signed_request(
    body: str,
    *,
    content_type: str,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> AsyncBoltRequest:
    """An inbound request as Slack sends it, with the headers of ``signed_headers``."""
    signed = signed_headers(
        body, content_type=content_type, secret=secret, timestamp=timestamp, signature=signature
    )
    headers: dict[str, str | Sequence[str]] = {name.lower(): value for name, value in signed.items()}
    return AsyncBoltRequest(body=body, headers=headers)


def form(fields: dict[str, Any]) -> str:
    """A form-encoded body."""
    return urlencode(fields)
