"""Settings of operations: health/metrics endpoints, instance leases, outage notices, shutdown."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["OpsSettings"]


class OpsSettings(BaseModel):
    """The ``[ops]`` section: how an instance is observed and shares work with others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serve: bool = Field(
        False,
        description="start the web server for /healthz, /readyz and /metrics even when no webhook is mounted",
    )
    metrics: bool = Field(True, description="record Prometheus metrics and serve them at /metrics")
    instance_name: str | None = Field(
        None, max_length=60, description="name of this instance in leases and logs; default host:pid:random"
    )
    lease_seconds: float = Field(
        6.0,
        ge=1.0,
        le=600.0,
        description="leases (mailboxes, the SLA check, scheduled jobs) last this long; renewed and checked "
        "every third of it; another instance takes over at most 4/3 of this after one dies",
    )
    down_after_failures: int = Field(
        3,
        ge=1,
        le=100,
        description="consecutive transient delivery failures to one channel/surface before the team is told",
    )
    mailbox_down_seconds: float = Field(
        60.0,
        ge=0.5,
        le=86400.0,
        description="a mailbox this instance reads that stays disconnected this long is announced in its "
        "inbox's chat channel (once; and once when it is back)",
    )
    claim_seconds: float = Field(
        8.0,
        ge=1.0,
        le=3600.0,
        description="an outbox row claimed by an instance that died is delivered by another after this "
        "long; a live instance renews its claims every third of it while it holds the rows",
    )
    shutdown_grace_seconds: float = Field(
        20.0, ge=0.0, le=600.0, description="on SIGTERM, wait this long for in-flight deliveries"
    )
