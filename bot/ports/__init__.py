"""The ports the core talks through.

``driven`` holds what the core calls (``Surface``, ``ChannelSender`` and the delivery errors);
``inbound`` holds what channels hand the core (``InboundMessage``, cursors, the ingest result);
``channels`` the per-channel rules an adapter declares (``ChannelRules``).
The driven names are re-exported here: ``from bot.ports import Surface``.
"""

from bot.ports.channels import ChannelRules
from bot.ports.driven import (
    WHOLE_SURFACE,
    ChannelSender,
    DeliveryError,
    MemoryParts,
    PermanentDeliveryError,
    RefusalScope,
    Remedy,
    SentParts,
    SignInRefused,
    Surface,
    SurfaceRefused,
    ThreadGone,
    ThreadRef,
    TransientDeliveryError,
    join_ids,
)

__all__ = [
    "WHOLE_SURFACE",
    "ChannelRules",
    "ChannelSender",
    "DeliveryError",
    "MemoryParts",
    "PermanentDeliveryError",
    "RefusalScope",
    "Remedy",
    "SentParts",
    "SignInRefused",
    "Surface",
    "SurfaceRefused",
    "ThreadGone",
    "ThreadRef",
    "TransientDeliveryError",
    "join_ids",
]
