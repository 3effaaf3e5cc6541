"""Settings of the shared web server (WhatsApp webhook, Slack HTTP mode, ``/healthz``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WebSettings"]


class WebSettings(BaseModel):
    """The ``[web]`` section: where the one aiohttp server listens.

    The server only starts when an adapter mounts routes on it (e.g. the WhatsApp
    webhook). ``port = 0`` binds a free port (tests); put a TLS-terminating reverse
    proxy in front of it in production.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="interface to bind; 0.0.0.0 to listen on every interface")
    port: int = Field(8080, ge=0, le=65535, description="TCP port; 0 picks a free one")
