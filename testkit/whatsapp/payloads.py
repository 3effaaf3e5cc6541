"""Webhook payloads in the shapes Meta documents (entry[].changes[].value)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from testkit.whatsapp.graph import PHONE_NUMBER_ID

CUSTOMER = "31612345678"
CUSTOMER_BSUID = "NL.13491208655302741918"
_ids = itertools.count(1)


def envelope(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    name: str = "Sofia Jansen",
    wa_id: str | None = CUSTOMER,
    user_id: str | None = None,
    username: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict:
    """A whole webhook body with one change; ``user_id`` adds the business-scoped user id, and
    ``wa_id=None`` leaves the phone number out, as Meta does for a user with a username."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "31205550100", "phone_number_id": phone_number_id},
    }
    if messages is not None:
        profile = {"name": name, **({"username": username} if username else {})}
        contact: dict[str, Any] = {"profile": profile}
        if wa_id is not None:
            contact["wa_id"] = wa_id
        if user_id is not None:
            contact["user_id"] = user_id
        value["contacts"] = [contact]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def message(
    kind: str,
    content: Any,
    *,
    when: datetime,
    wamid: str | None = None,
    wa_id: str | None = CUSTOMER,
    user_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One inbound message object of ``kind`` with its type-specific content (``from`` absent when
    ``wa_id`` is None; ``from_user_id`` when ``user_id`` is given)."""
    body: dict[str, Any] = {
        **({"from": wa_id} if wa_id is not None else {}),
        **({"from_user_id": user_id} if user_id is not None else {}),
        "id": wamid or f"wamid.IN{next(_ids)}",
        "timestamp": str(int(when.timestamp())),
        "type": kind,
        **extra,
    }
    if content is not None:
        body[kind] = content
    return body


def status(
    wamid: str,
    state: str,
    *,
    when: datetime,
    errors: list[dict[str, Any]] | None = None,
    recipient_user_id: str | None = None,
) -> dict:
    """One status object (sent, delivered, read, failed); to a BSUID-only user when
    ``recipient_user_id`` is given (no ``recipient_id`` then)."""
    body: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(int(when.timestamp()))}
    if recipient_user_id is not None:
        body["recipient_user_id"] = recipient_user_id
    else:
        body["recipient_id"] = CUSTOMER
    if errors:
        body["errors"] = errors
    return body
