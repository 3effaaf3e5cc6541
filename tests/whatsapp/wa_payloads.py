"""Webhook payloads in the shapes Meta documents (entry[].changes[].value)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.whatsapp.fake_graph import PHONE_NUMBER_ID

CUSTOMER = "31612345678"
_ids = itertools.count(1)


def envelope(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    name: str = "Sofia Jansen",
    wa_id: str = CUSTOMER,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict:
    """A whole webhook body with one change."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "31205550100", "phone_number_id": phone_number_id},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def message(
    kind: str, content: Any, *, when: datetime, wamid: str | None = None, wa_id: str = CUSTOMER, **extra: Any
) -> dict[str, Any]:
    """One inbound message object of ``kind`` with its type-specific content."""
    body: dict[str, Any] = {
        "from": wa_id,
        "id": wamid or f"wamid.IN{next(_ids)}",
        "timestamp": str(int(when.timestamp())),
        "type": kind,
        **extra,
    }
    if content is not None:
        body[kind] = content
    return body


def status(wamid: str, state: str, *, when: datetime, errors: list[dict[str, Any]] | None = None) -> dict:
    """One status object (sent, delivered, read, failed)."""
    body: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(when.timestamp())),
        "recipient_id": CUSTOMER,
    }
    if errors:
        body["errors"] = errors
    return body
