"""Settings a channel adapter declares for the core: the message templates its provider approved."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ApprovedTemplate"]

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
_NAMED_PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ApprovedTemplate(BaseModel):
    """One message template approved by the channel's provider (for WhatsApp: in WhatsApp Manager).

    The body takes ``parameters`` positional parameters (``{{1}}``, ``{{2}}`` …) or, for a
    template with named parameters, the ``named`` ones (``{{first_name}}`` …). ``header`` is
    the type of the header's parameter (``text``, or an ``image``/``video``/``document`` link)
    when it has one; ``buttons`` the sub-type of each button that takes a parameter
    (``quick_reply``: its payload, ``url``: the URL's variable suffix), in button order.
    ``body`` is an optional preview of the approved text, shown in the thread filled in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field("en_US", min_length=2, description="the template's language code, e.g. en_US, nl")
    parameters: int = Field(0, ge=0, le=20, description="number of positional body parameters")
    named: tuple[str, ...] = Field((), max_length=20, description="names of the body's named parameters")
    header: Literal["text", "image", "video", "document"] | None = Field(
        None, description="the header's parameter type, if it has one"
    )
    buttons: tuple[Literal["quick_reply", "url"], ...] = Field(
        (), max_length=10, description="sub-type of each button that takes a parameter"
    )
    body: str | None = Field(None, description="preview of the approved body text with {{1}} placeholders")

    def slots(self) -> list[str]:
        """What the template command takes, in order: the header's value, the body's, each button's."""
        header = {"text": "header text"}.get(self.header or "", f"header {self.header} link")
        body = list(self.named) or [f"{{{{{n}}}}}" for n in range(1, self.parameters + 1)]
        buttons = [
            f"button {n} {'payload' if kind == 'quick_reply' else 'URL suffix'}"
            for n, kind in enumerate(self.buttons, start=1)
        ]
        return ([header] if self.header else []) + body + buttons

    @model_validator(mode="after")
    def _body_matches_parameters(self) -> ApprovedTemplate:
        if self.named and self.parameters:
            raise ValueError("give either parameters (positional {{1}}) or named ({{first_name}}), not both")
        for name in self.named:
            if not _NAME.match(name):
                raise ValueError(f"named parameter '{name}' must be lowercase letters, digits and _")
        if self.body is not None:
            used = {int(n) for n in _PLACEHOLDER.findall(self.body)}
            if used and max(used) > self.parameters:
                raise ValueError(
                    f"body uses {{{{{max(used)}}}}} but parameters = {self.parameters}; make them agree"
                )
            unknown = sorted(set(_NAMED_PLACEHOLDER.findall(self.body)) - set(self.named))
            if unknown:
                raise ValueError(
                    f"body uses {{{{{unknown[0]}}}}} but named does not list it; add it to named"
                )
        return self
