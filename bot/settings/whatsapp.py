"""Settings of the WhatsApp channel (Cloud API): webhook in, Graph API out.

Secrets (``access_token``, ``app_secret``, ``verify_token``) arrive already
interpolated from ``${ENV}`` references by the configuration loader.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_GRAPH_API_VERSION", "TemplateSettings", "WhatsAppSettings"]

DEFAULT_GRAPH_API_VERSION = "v21.0"
"""The Graph API version Threadline is tested against; pinned so Meta's changes never surprise us."""

_VERSION = re.compile(r"^v\d+\.\d+$")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


class TemplateSettings(BaseModel):
    """One approved message template, as declared in WhatsApp Manager.

    ``parameters`` is how many body parameters (``{{1}}``, ``{{2}}`` …) it takes;
    ``body`` is an optional preview of the approved text, shown in the thread with
    the parameters filled in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field("en_US", min_length=2, description="the template's language code, e.g. en_US, nl")
    parameters: int = Field(0, ge=0, le=20, description="number of body parameters")
    body: str | None = Field(None, description="preview of the approved body text with {{1}} placeholders")

    @model_validator(mode="after")
    def _body_matches_parameters(self) -> TemplateSettings:
        if self.body is not None:
            used = {int(n) for n in _PLACEHOLDER.findall(self.body)}
            if used and max(used) > self.parameters:
                raise ValueError(
                    f"body uses {{{{{max(used)}}}}} but parameters = {self.parameters}; make them agree"
                )
        return self


class WhatsAppSettings(BaseModel):
    """The ``[channels.whatsapp]`` section: one WhatsApp business number feeding one inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: str = Field(min_length=1, description="the Threadline inbox this number feeds")
    phone_number_id: str = Field(min_length=1, description="the Cloud API phone number id (not the number)")
    access_token: str = Field(
        min_length=1,
        repr=False,
        description="system-user token, from ${WHATSAPP_ACCESS_TOKEN}",
    )
    app_secret: str = Field(min_length=1, repr=False, description="the Meta app secret that signs webhooks")
    verify_token: str = Field(min_length=1, repr=False, description="the token typed into the webhook setup")
    graph_api_version: str = Field(
        DEFAULT_GRAPH_API_VERSION,
        description="pinned Graph API version, e.g. v21.0",
    )
    graph_base_url: str = Field(
        "https://graph.facebook.com",
        description="Graph API base URL (tests: a fake)",
    )
    webhook_path: str = Field(
        "/webhooks/whatsapp",
        description="path of the webhook on the shared web server",
    )
    templates: dict[str, TemplateSettings] = Field(
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
    request_timeout_seconds: float = Field(30.0, gt=0, description="timeout of each Graph API request")

    @field_validator("graph_api_version")
    @classmethod
    def _pinned_version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"'{value}' is not a Graph API version; write it like v21.0")
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
