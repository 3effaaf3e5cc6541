"""What Meta documents the Cloud API refuses, for the fake Graph API (``testkit.whatsapp.graph``).

- media types and sizes per message type ("Supported media types",
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types):
  image jpeg/png 5 MB; video mp4/3gpp 16 MB; audio aac/amr/mpeg/mp4/ogg 16 MB; the listed
  document types 100 MB; sticker webp 100 KB static, 500 KB animated. Anything else: error 131053.
- template parameter counts must match the approved template: error 132000; an unknown
  template: error 132001.

``ERRORS`` holds the error bodies by code, in the shape of "Error codes"
(https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ANIMATED_STICKER_BYTES",
    "APPROVED",
    "ERRORS",
    "MEDIA_LIMITS",
    "ApprovedTemplate",
    "template_error",
]

_MB = 1024 * 1024
#: message type -> (accepted MIME types, largest size in bytes)
MEDIA_LIMITS: dict[str, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * _MB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * _MB),
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * _MB),
    "document": (
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * _MB,
    ),
    "sticker": (frozenset({"image/webp"}), 100 * 1024),
}
ANIMATED_STICKER_BYTES = 500 * 1024

#: Meta's documented error bodies, by code: (HTTP status, error object)
ERRORS: dict[int, tuple[int, dict[str, Any]]] = {
    2: (503, {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2}),
    131047: (
        400,
        {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more "
                "than 24 hours have passed since the customer last replied to this number.",
            },
        },
    ),
    131056: (
        400,
        {
            "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "type": "OAuthException",
            "code": 131056,
        },
    ),
    130429: (
        400,
        {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Cloud API message throughput has been reached.",
            },
        },
    ),
    100: (400, {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}),
    131053: (
        400,
        {
            "message": "(#131053) Media upload error",
            "type": "OAuthException",
            "code": 131053,
            "error_data": {"messaging_product": "whatsapp", "details": "Unsupported media type or size."},
        },
    ),
    132000: (
        400,
        {
            "message": "(#132000) Number of parameters does not match the expected number of params",
            "type": "OAuthException",
            "code": 132000,
        },
    ),
    132001: (
        404,
        {
            "message": "(#132001) Template name does not exist in the translation",
            "type": "OAuthException",
            "code": 132001,
        },
    ),
    190: (
        401,
        {
            "message": "Error validating access token: Session has expired",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
        },
    ),
}


@dataclass(frozen=True)
class ApprovedTemplate:
    """A template as approved in WhatsApp Manager: its language and the parameters each component takes.

    ``body`` is a count of positional parameters or a tuple of names (named parameters);
    ``header`` the header parameter's type (``text``, ``image`` …) or None; ``buttons`` the
    sub-type of each button that takes a parameter, by index.
    """

    language: str
    body: int | tuple[str, ...] = 0
    header: str | None = None
    buttons: tuple[str, ...] = ()


#: the templates the fake business has approved
APPROVED: dict[str, ApprovedTemplate] = {
    "order_update": ApprovedTemplate("en_US", body=2),
    "follow_up": ApprovedTemplate("nl"),
    "delivery_slot": ApprovedTemplate(
        "en_US", body=("first_name", "slot"), header="image", buttons=("quick_reply", "url")
    ),
}


def template_error(template: dict[str, Any]) -> int | None:
    """The error code Meta answers for a template send that does not fit the approved template."""
    approved = APPROVED.get(str(template.get("name")))
    if approved is None or template.get("language", {}).get("code") != approved.language:
        return 132001
    header: list[dict[str, Any]] = []
    body: list[dict[str, Any]] = []
    buttons: dict[int, dict[str, Any]] = {}
    for component in template.get("components", []):
        kind, parameters = component.get("type"), component.get("parameters", [])
        if kind == "header":
            header = parameters
        elif kind == "body":
            body = parameters
        elif kind == "button":
            buttons[int(component["index"])] = component
        else:
            return 100
    if [p.get("type") for p in header] != ([approved.header] if approved.header else []):
        return 132000
    if isinstance(approved.body, tuple):
        names = tuple(p.get("parameter_name") for p in body)
        if names != approved.body or not all(p.get("type") == "text" and p.get("text") for p in body):
            return 132000
    elif len(body) != approved.body or any("parameter_name" in p for p in body):
        return 132000
    if sorted(buttons) != list(range(len(approved.buttons))) or any(
        buttons[i].get("sub_type") != sub or len(buttons[i].get("parameters", [])) != 1
        for i, sub in enumerate(approved.buttons)
    ):
        return 132000
    return None
