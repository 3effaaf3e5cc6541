"""A Threadline app on SQLite mirroring an email inbox into the fake Slack (channel C_SUPPORT)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import select

from adapters.slack import SlackAdapter
from bot.ports.inbound import InboundMessage
from storage.models import Message
from testkit.rig import Rig
from testkit.settings import SettingsBuilder
from testkit.slack.fake import FakeSlack
from testkit.slack.signing import SECRET

CHANNEL = "C_SUPPORT"
_MESSAGE_IDS = itertools.count(1)


def slack_surface(api_url: str, *, mode: str = "http") -> dict[str, Any]:
    """The ``[surfaces.slack]`` keys of the fake Slack at ``api_url``: its tokens, no retries of a
    refused call, and a pace that never holds a test back."""
    return {
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
        "mode": mode,
        "api_base_url": api_url,
        "rate_limit_retries": 0,
        "pace_per_second": 1000,
        "pace_burst": 1000,
    }


def slack_settings(
    tmp: Path, api_url: str, *, mode: str = "http", undo: int = 0, extra_slack: str = "", extra: str = ""
) -> SettingsBuilder:
    """One email inbox mirrored into Slack channel C_SUPPORT (HTTP mode, signed; ``mode`` "socket" for
    Socket Mode), Slack's pace out of the way, email replies written to ``tmp``/sent-mail.

    ``extra_slack`` is more ``[surfaces.slack]`` keys; ``extra`` is TOML whose first lines (before any
    table) are more ``[channels.email]`` keys."""
    return (
        SettingsBuilder(f"sqlite:///{tmp}/threadline.db", log_level=None)
        .set("outbox", undo_seconds=undo)
        .set("surfaces.slack", **slack_surface(api_url, mode=mode))
        .merge_toml("[surfaces.slack]\n" + extra_slack)
        .inbox(
            "support", channel="email", address="support@example.com", surface="slack", chat_channel=CHANNEL
        )
        .email_to_files(f"{tmp}/sent-mail")
        .merge_toml("[channels.email]\n" + extra)
    )


@dataclass
class SlackRig(Rig):
    """The app with its Slack surface, the fake Slack it talks to, and where email replies are written."""

    fake: FakeSlack
    outgoing: Path
    slack: SlackAdapter

    async def dispatch(self, request: AsyncBoltRequest) -> BoltResponse:
        """Dispatch a signed request through bolt, like the HTTP route would; return bolt's response."""
        return await self.slack.app.async_dispatch(request)

    async def settle(self) -> None:
        """Finish acknowledged work, then deliver everything due."""
        await self.slack.settle()
        await self.drain()

    async def email(
        self,
        text: str,
        *,
        subject: str = "Refund for order 1881",
        sender: str = "ann@example.com",
        name: str = "Ann Customer",
        external_id: str | None = None,
        refs: tuple[str, ...] = (),
    ) -> int:
        """A customer email arrives; returns its conversation number."""
        result = await self.app.ingestor.ingest(
            InboundMessage(
                channel="email",
                inbox="support",
                external_id=external_id or f"<m{next(_MESSAGE_IDS)}@example.com>",
                sender_address=sender,
                sender_name=name,
                received_at=self.clock.now(),
                text=text,
                subject=subject,
                thread_refs=refs,
            )
        )
        assert result.conversation_number is not None
        return result.conversation_number

    async def new_card(self) -> tuple[int, dict[str, Any]]:
        """Ann's email about a late order arrives and is mirrored: its number and its card."""
        number = await self.email("Please help, my order 1881 is late.")
        await self.settle()
        return number, self.card()

    async def notes(self) -> list[str]:
        """The text of every internal note stored, in id order."""
        async with self.app.store.transaction() as uow:
            found = select(Message).where(Message.kind == "note").order_by(Message.id)
            return [m.text for m in (await uow.session.execute(found)).scalars().all()]

    def card(self, index: int = -1) -> dict[str, Any]:
        """A card (root message) in the support channel, as the fake holds it now."""
        return self.fake.roots(CHANNEL)[index]
