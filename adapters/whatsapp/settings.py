"""Settings of the WhatsApp channel (Cloud API): webhook in, Graph API out.

Secrets (``access_token``, ``app_secret``, ``verify_token``) arrive already
interpolated from ``${ENV}`` references by the configuration loader.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.ports.channels import ChannelRules
from bot.settings.channel import ApprovedTemplate

__all__ = ["DEFAULT_GRAPH_API_VERSION", "RULES", "WhatsAppSettings"]

_MB = 1024 * 1024

RULES = ChannelRules(
    name="WhatsApp",
    label="WhatsApp (Cloud API)",
    address_kind="phone",
    # free-form messages only within 24 hours of the customer's last message, then only an
    # approved template (Meta error 131047;
    # https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages)
    reply_window=timedelta(hours=24),
    templates_key="channels.whatsapp.templates",
    # https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media, "Supported media types"
    file_limits=(("image", 5 * _MB), ("audio", 16 * _MB), ("video", 16 * _MB), ("", 100 * _MB)),
)
"""What the core needs to know of WhatsApp (``Settings.channel_rules``)."""

DEFAULT_GRAPH_API_VERSION = "v26.0"
"""The Graph API version Threadline is tested against (released July 2026); pinned so Meta's changes
never surprise us. Meta supports a version for about two years; set ``graph_api_version`` to move."""

_VERSION = re.compile(r"^v\d+\.\d+$")


class WhatsAppSettings(BaseModel):
    """The ``[channels.whatsapp]`` section: one WhatsApp business number feeding one inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: str = Field(min_length=1, description="the Threadline inbox this number feeds")
    phone_number_id: str = Field(min_length=1, description="the Cloud API phone number id (not the number)")
    waba_id: str | None = Field(
        None,
        min_length=1,
        description="the WhatsApp Business Account id; lets threadline doctor check the webhook subscription",
    )
    access_token: str = Field(
        min_length=1,
        repr=False,
        description="system-user token, from ${WHATSAPP_ACCESS_TOKEN}",
    )
    app_secret: str = Field(min_length=1, repr=False, description="the Meta app secret that signs webhooks")
    verify_token: str = Field(min_length=1, repr=False, description="the token typed into the webhook setup")
    graph_api_version: str = Field(
        DEFAULT_GRAPH_API_VERSION,
        description="pinned Graph API version, e.g. v26.0",
    )
    graph_base_url: str = Field(
        "https://graph.facebook.com",
        description="Graph API base URL (tests: a fake)",
    )
    webhook_path: str = Field(
        "/webhooks/whatsapp",
        description="path of the webhook on the shared web server",
    )
    templates: dict[str, ApprovedTemplate] = Field(
        default_factory=dict,
        description="approved templates by name",
    )
    mark_read_on_claim: bool = Field(
        False,
        description="mark the customer's messages read when an agent replies",
    )
    max_media_bytes: int = Field(
        16 * 1024 * 1024,
        gt=0,
        description="media above this are recorded, not kept",
    )
    numbers: dict[str, str] = Field(
        default_factory=dict,
        description="more phone numbers of the same app: phone number id → the inbox it feeds",
    )
    request_timeout_seconds: float = Field(30.0, gt=0, description="timeout of each Graph API request")

    def inbox_of(self, phone_number_id: str | None) -> str | None:
        """The inbox a phone number feeds (no id: the main number's), or None for a number not served."""
        if phone_number_id is None or phone_number_id == self.phone_number_id:
            return self.inbox
        return self.numbers.get(phone_number_id)

    def number_of(self, inbox: str) -> str:
        """The phone number id replies of an inbox go out from (the main number for any other inbox)."""
        return next((number for number, name in self.numbers.items() if name == inbox), self.phone_number_id)

    @model_validator(mode="after")
    def _one_number_per_inbox(self) -> WhatsAppSettings:
        fed = {self.inbox: self.phone_number_id}
        for number, inbox in self.numbers.items():
            if number == self.phone_number_id:
                raise ValueError(f"numbers.{number} is the main phone_number_id; list only the other numbers")
            if inbox in fed:
                raise ValueError(
                    f"numbers.{number}: inbox '{inbox}' is already fed by {fed[inbox]}; "
                    "give each number its own inbox"
                )
            fed[inbox] = number
        return self

    @field_validator("graph_api_version")
    @classmethod
    def _pinned_version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"'{value}' is not a Graph API version; write it like v26.0")
        return value

    @field_validator("graph_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("graph_base_url must start with https:// (http:// only for a local fake)")
        return value.rstrip("/")

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("webhook_path must start with /, e.g. /webhooks/whatsapp")
        return value
