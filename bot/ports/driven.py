"""The driven ports, what the core calls: surfaces (team side) and channel senders (customer side).

Adapters implement these protocols; the outbox dispatcher calls them. Views passed
across are plain dataclasses (``bot.views``), never ORM or platform objects.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.views import CardView, DigestView, OutboundView, PostView

__all__ = [
    "WHOLE_SURFACE",
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


Remedy = Literal["retry", "none", "template"]
"""What the team can do about a failed reply: fix the cause and retry it; nothing, as sending the same
reply again cannot succeed; or send an approved template (the channel's reply window closed)."""


class DeliveryError(Exception):
    """A delivery that did not happen; ``reason`` is shown to the team, ``remedy`` says what can help."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        remedy: Remedy = "retry",
        *,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.remedy: Remedy = remedy
        # the destination asked us to wait (HTTP 429, WhatsApp 130429/131056, an SMTP 4xx answer)
        self.rate_limited = rate_limited or retry_after is not None


class TransientDeliveryError(DeliveryError):
    """Worth retrying later (network error, 4xx SMTP, HTTP 429/5xx); ``retry_after`` in seconds if known."""


class SignInRefused(TransientDeliveryError):
    """A channel refuses Threadline's sign-in (a changed password, a revoked app permission, an
    expired OAuth sign-in) until someone fixes it; ``reason`` says what to fix.

    Not an outage and not a failed reply: the outbox tells the team at once (one notice, the fix in
    it), keeps the delivery waiting with backoff however many attempts it takes (it is never given
    up), and says it works again at the first delivery that goes through.
    """


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help (5xx SMTP, invalid recipient, window closed)."""


class ThreadGone(PermanentDeliveryError):
    """The platform says the thread or card no longer exists; the dispatcher recreates it."""


WHOLE_SURFACE = "*"
"""The probe scope of the whole surface (its token), as opposed to one chat channel."""

RefusalScope = Literal["channel", "surface"]
"""What a refusal concerns: the chat channel the call was for, or the whole surface (the token)."""


class SurfaceRefused(PermanentDeliveryError):
    """A surface refuses until someone fixes its setup: the bot is not in the channel, the channel
    does not exist, the token is invalid, revoked or lacks a scope.

    ``scope`` says whether only the chat channel of the call or the whole surface is refused;
    ``reason`` says what to do. The outbox parks the conversations concerned and re-mirrors them
    once the scope works again (``bot.outbox.repair``).
    """

    def __init__(self, reason: str, scope: RefusalScope = "channel") -> None:
        super().__init__(reason)
        self.scope: RefusalScope = scope


@dataclass(frozen=True)
class ThreadRef:
    """Where a conversation lives on a surface: chat channel, thread id, card message id."""

    chat_channel: str
    thread_id: str
    card_id: str


_ID_ROOM = 200  # the outbox keeps a delivery's platform ids in 200 characters


def join_ids(ids: list[str]) -> str:
    """The platform ids of a post split into several messages, space-separated, as many as fit.

    Surfaces return this from ``post`` so that every part can be found again (redaction).
    """
    joined = ""
    for item in ids:
        candidate = f"{joined} {item}" if joined else item
        if len(candidate) > _ID_ROOM:
            break
        joined = candidate
    return joined


class Surface(Protocol):
    """A team-side chat platform (Slack, Discord, the local terminal).

    Every ability is declared here and every surface has it; the core never probes a
    surface for a method. A platform that refuses one raises ``PermanentDeliveryError``.
    """

    name: str

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        """Post the card in ``chat_channel`` and open its thread; return where it lives."""
        ...

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        """Edit the card in place."""
        ...

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        """Post one message into the thread; return the platform's id for it."""
        ...

    def pace_key(self, chat_channel: str) -> str:
        """The key that rate-limits posts (usually the chat channel)."""
        ...

    async def post_to_channel(self, chat_channel: str, post: PostView, thread: ThreadRef | None) -> str:
        """Post a notice outside any thread (an SLA escalation), linking ``thread``; return its id."""
        ...

    async def post_digest(self, chat_channel: str, digest: DigestView) -> str:
        """Post a digest (not in a thread) to ``chat_channel``; return the platform's id for it.

        Thread links come as ``DigestEntry.chat_channel``/``thread_id``; render them as links.
        """
        ...

    async def redact(self, ref: ThreadRef, item_id: str) -> None:
        """Delete or blank the thread message ``item_id`` (the id, or joined ids, ``post`` returned)."""
        ...

    async def show_queue(self, target: str, view: dict[str, Any]) -> str:
        """Show a queue the surface's adapter rendered (``view``) to ``target``, replacing what it showed
        before (Slack: a user's App Home; Discord: a channel's pinned queue message, edited in place);
        return the platform's id for it. A surface without queue views raises ``PermanentDeliveryError``.
        """
        ...

    async def probe(self, scope: str) -> None:
        """Check cheaply that ``scope`` (a chat channel, or ``WHOLE_SURFACE``: the token) works now.

        Returns when it does; raises ``SurfaceRefused`` while it is still refused, or
        ``TransientDeliveryError`` when the platform cannot be reached to tell.
        """
        ...


class SentParts(Protocol):
    """What was already sent of one outbound message, part by part (a long WhatsApp reply is several
    messages, an email one). The outbox keeps it in the database, so a retry after a restart sends
    only the parts that are missing."""

    def sent(self, part: int) -> str | None:
        """The external id part ``part`` was sent with, or None when it was not sent yet."""
        ...

    async def record(self, part: int, external_id: str) -> None:
        """Part ``part`` was accepted by the transport as ``external_id``: keep it (durably)."""
        ...


class MemoryParts:
    """``SentParts`` kept in memory: what one sender call (or a test) remembers, nothing more."""

    def __init__(self) -> None:
        self.parts: dict[int, str] = {}

    def sent(self, part: int) -> str | None:
        """The external id of a part sent through this object."""
        return self.parts.get(part)

    async def record(self, part: int, external_id: str) -> None:
        """Remember a sent part."""
        self.parts[part] = external_id


class ChannelSender(Protocol):
    """A customer-side transport that delivers replies (SMTP, WhatsApp Cloud API, a folder)."""

    channel: str

    async def send(self, message: OutboundView, parts: SentParts) -> str:
        """Deliver ``message``; return its external id (Message-ID, wamid).

        Must be idempotent for the same ``message.uid`` where the transport allows
        (email derives its Message-ID from it). Every part accepted by the transport is recorded in
        ``parts`` right away, and a part already recorded there is not sent again.
        """
        ...

    async def erase(self, external_ids: Collection[str]) -> int:
        """Erase what the transport itself keeps of these sent messages (a spool folder, a demo file).

        A forgotten contact's replies leave nothing behind here; mail sent by SMTP and messages
        sent through an API have left and keep nothing, so those return 0. Returns how many were erased.
        """
        ...
