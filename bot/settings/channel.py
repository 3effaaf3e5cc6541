"""Settings a channel adapter declares for the core: the message templates its provider approved."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ApprovedTemplate"]

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


class ApprovedTemplate(BaseModel):
    """One message template approved by the channel's provider (for WhatsApp: in WhatsApp Manager).

    ``parameters`` is how many body parameters (``{{1}}``, ``{{2}}`` …) it takes;
    ``body`` is an optional preview of the approved text, shown in the thread with
    the parameters filled in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field("en_US", min_length=2, description="the template's language code, e.g. en_US, nl")
    parameters: int = Field(0, ge=0, le=20, description="number of body parameters")
    body: str | None = Field(None, description="preview of the approved body text with {{1}} placeholders")

    @model_validator(mode="after")
    def _body_matches_parameters(self) -> ApprovedTemplate:
        if self.body is not None:
            used = {int(n) for n in _PLACEHOLDER.findall(self.body)}
            if used and max(used) > self.parameters:
                raise ValueError(
                    f"body uses {{{{{max(used)}}}}} but parameters = {self.parameters}; make them agree"
                )
        return self
