"""Building a Threadline app on the fake Discord, and Discord gateway payloads (interactions, messages).

Interactions go through discord.py's own path: ``ConnectionState.parse_interaction_create``
(what the gateway's INTERACTION_CREATE calls) → the app command tree or the dynamic
component items → our bridge → the fake's ``/interactions/{id}/{token}/callback``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord

from adapters.discord import DiscordSurface
from bot.clock import ManualClock
from bot.ports import SentParts
from bot.ports.inbound import InboundMessage
from bot.views import OutboundView
from testkit.discord.fake import APP_ID, GUILD_ID, Call, FakeDiscord
from testkit.discord.payloads import message_fields
from testkit.discord.payloads import reaction as fake_reaction
from testkit.rig import Rig, configured
from testkit.settings import SettingsBuilder
from threadline.app import Threadline

if TYPE_CHECKING:
    from discord.types.message import Message as MessagePayload
    from discord.types.threads import Thread as ThreadPayload

__all__ = [
    "AGENT_ROLE",
    "ALICE",
    "BOB",
    "STRANGER",
    "DiscordRig",
    "RecordingSender",
    "build_app",
    "email_in",
]

AGENT_ROLE = 700000000000000001
ALICE = 600000000000000001
BOB = 600000000000000002
STRANGER = 600000000000000003
_NAMES = {ALICE: "alice", BOB: "bob", STRANGER: "mallory"}
_ids = itertools.count(500000000000000001)


@dataclass
class RecordingSender:
    """An email ChannelSender that records what the app sends to customers."""

    channel: str = "email"
    sent: list[OutboundView] = field(default_factory=list)

    async def erase(self, external_ids: Collection[str]) -> int:
        """Nothing is kept: the test reads what was sent from memory."""
        return 0

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Record ``message``; its Message-ID derives from the uid (idempotent)."""
        self.sent.append(message)
        return f"<{message.uid}@example.com>"


def email_in(when: datetime, text: str = "Hello, where is my refund?", **fields: Any) -> InboundMessage:
    """An email to the support inbox from Jane Doe."""
    fields.setdefault("external_id", f"<m{next(_ids)}@example.org>")
    fields.setdefault("subject", "Refund for order 1881")
    return InboundMessage(
        channel="email",
        inbox="support",
        sender_address="jane@example.org",
        sender_name=fields.pop("name", "Jane Doe"),
        received_at=when,
        text=text,
        **fields,
    )


@dataclass
class DiscordRig(Rig):
    """A Threadline app logged in to the fake Discord, with helpers to act as a Discord member."""

    fake: FakeDiscord
    sender: RecordingSender
    channel_id: int
    surface: DiscordSurface

    @classmethod
    def around(
        cls, app: Threadline, clock: ManualClock, fake: FakeDiscord, sender: RecordingSender, channel_id: int
    ) -> DiscordRig:
        """The rig of an app built by ``build_app`` (its Discord surface found once, here)."""
        return cls(app, clock, fake, sender, channel_id, configured(app.discord, "Discord"))

    @property
    def state(self) -> Any:
        """discord.py's ConnectionState of the app's client."""
        return self.surface.client._connection

    def thread_id(self, index: int = -1) -> int:
        """The id of a thread the app created."""
        return int(self.fake.threads()[index]["id"])

    def card(self, thread_id: int) -> dict[str, Any]:
        """The card message of a thread (its first message)."""
        return self.fake.posts(thread_id)[0]

    async def interact(self, payload: dict[str, Any]) -> Call:
        """Feed an interaction as the gateway would; return the fake's record of the first response
        (which Discord must have accepted)."""
        self.state.parse_interaction_create(payload)
        calls = await self.fake.wait_for("POST", rf"^/interactions/{payload['id']}/")
        assert calls[0].status == 200, f"Discord refused the interaction's answer ({calls[0].status})"
        return calls[0]

    async def command(self, name: str, thread_id: int | None, user: int = ALICE, **options: Any) -> Call:
        """Run ``/name option:value …`` in a thread (or the inbox channel when ``thread_id`` is None)."""
        return await self.interact(slash(self, name, options, channel_id=thread_id, user=user))

    def member_message(
        self, thread_id: int, text: str, user: int = ALICE, *, bot: bool = False
    ) -> discord.Message:
        """A member's message in a thread, as the gateway's MESSAGE_CREATE brings it (the fake stores it,
        and Discord unarchives an archived thread for it)."""
        state = self.state
        channel = discord.Thread(
            guild=state._get_or_create_unavailable_guild(int(self.fake.channels[thread_id]["guild_id"])),
            state=state,
            data=cast("ThreadPayload", self.fake.thread_payload(thread_id)),
        )
        author = member(user)
        data = message_fields(
            id=str(self.fake.snowflake()),
            channel_id=str(thread_id),
            guild_id=str(channel.guild.id),
            author={**author["user"], "bot": bot},
            member={k: v for k, v in author.items() if k != "user"},
            content=text,
        )
        self.fake.receive(data)
        return discord.Message(state=state, channel=channel, data=cast("MessagePayload", data))

    def react(
        self,
        thread_id: int,
        message_id: int,
        emoji: str,
        user: int = ALICE,
        *,
        removed: bool = False,
        bot: bool = False,
    ) -> None:
        """A member's reaction in a thread reaches the client as the gateway dispatches it.

        Discord dispatches reaction events only to a connection that identified with the
        GUILD_MESSAGE_REACTIONS intent (1 << 10); without it the reaction is never seen. The
        guild is in the client's cache, as the GUILDS intent's GUILD_CREATE puts it there.
        """
        state = self.state
        if not state._intents.guild_reactions:
            return
        if state._get_guild(GUILD_ID) is None:
            state._add_guild(state._get_or_create_unavailable_guild(GUILD_ID))
        roles = (AGENT_ROLE,) if user != STRANGER else ()
        who = member(user, roles)
        who["user"]["bot"] = bot
        data = fake_reaction(
            channel_id=thread_id,
            message_id=message_id,
            user_id=user,
            emoji=emoji,
            member=who,
            removed=removed,
        )
        if removed:
            state.parse_message_reaction_remove(cast("Any", data))
        else:
            state.parse_message_reaction_add(cast("Any", data))

    async def followups(self, payload_id: int) -> list[Call]:
        """Follow-up messages sent for the interaction with this token id."""
        return self.fake.find("POST", rf"^/webhooks/{APP_ID}/tok{payload_id}")


def member(user: int, roles: tuple[int, ...] = (AGENT_ROLE,)) -> dict[str, Any]:
    """A guild member payload."""
    name = _NAMES.get(user, f"user{user}")
    return {
        "user": {
            "id": str(user),
            "username": name,
            "discriminator": "0",
            "global_name": name.title(),
            "avatar": None,
        },
        "roles": [str(r) for r in roles],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "permissions": "2147483647",
    }


def _base(h: DiscordRig, kind: int, channel_id: int | None, user: int) -> dict[str, Any]:
    iid = next(_ids)
    channel = h.fake.channels[channel_id] if channel_id is not None else h.fake.channels[h.channel_id]
    roles = (AGENT_ROLE,) if user != STRANGER else ()
    h.fake.interaction_channels[f"tok{iid}"] = int(channel["id"])
    return {
        "id": str(iid),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"tok{iid}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "channel_id": channel["id"],
        "channel": channel,
        "member": member(user, roles),
        "app_permissions": "2147483647",
        "locale": "en-US",
        "guild_locale": "en-US",
        "attachment_size_limit": 26214400,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
    }


def slash(
    h: DiscordRig,
    name: str,
    options: dict[str, Any],
    *,
    channel_id: int | None,
    user: int = ALICE,
    focused: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND (or, with ``focused``, an autocomplete) interaction payload.

    Discord does not let members use application commands in archived threads (Threads topic,
    "Active & Archived Threads"), so none is built for one.
    """
    if channel_id is not None and h.fake.archived(channel_id):
        raise AssertionError("Discord offers no application commands in an archived thread")
    payload = _base(h, 4 if focused else 2, channel_id, user)
    resolved: dict[str, Any] = {}
    opts = []
    for key, value in options.items():
        kind = 3
        if isinstance(value, bool):
            kind = 5
        elif key == "member":
            kind, value = 6, str(value)
            resolved = {
                "users": {value: member(int(value))["user"]},
                "members": {value: {k: v for k, v in member(int(value)).items() if k != "user"}},
            }
        option = {"name": key, "type": kind, "value": value}
        if key == focused:
            option["focused"] = True
        opts.append(option)
    if group is not None:
        opts = [{"name": name, "type": 1, "options": opts}]
        name = group
    payload["data"] = {
        "id": str(next(_ids)),
        "name": name,
        "type": 1,
        "options": opts,
        "guild_id": str(GUILD_ID),
    }
    if resolved:
        payload["data"]["resolved"] = resolved
    return payload


def component(
    h: DiscordRig,
    message: dict[str, Any],
    custom_id: str,
    kind: int,
    values: list[str] | None = None,
    *,
    user: int = ALICE,
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction: a click on (or pick in) a component of ``message``."""
    payload = _base(h, 3, int(message["channel_id"]), user)
    payload["message"] = message
    payload["data"] = {"custom_id": custom_id, "component_type": kind}
    if values is not None:
        payload["data"]["values"] = values
        if kind == 5:
            payload["data"]["resolved"] = {"users": {v: member(int(v))["user"] for v in values}}
    return payload


def discord_settings(
    fake: FakeDiscord,
    tmp: Path,
    channel_id: int,
    *,
    sync: bool = False,
    role: int | str = AGENT_ROLE,
    extra: str = "",
) -> SettingsBuilder:
    """Settings mirroring the support inbox into ``channel_id`` on the fake Discord, with Alice and Bob as
    agents and two templates; ``extra`` is TOML whose first lines are more ``[surfaces.discord]`` keys."""
    return (
        SettingsBuilder(f"sqlite:///{tmp}/threadline.db")
        .set("outbox", backoff_base_seconds=1.0, poll_interval_seconds=0.05)
        .set(
            "surfaces.discord",
            bot_token="fake-token",
            api_base_url=fake.base_url,
            gateway_url=fake.gateway_url,
            guild_ids=[GUILD_ID],
            agent_role=str(role),
            sync_commands=sync,
            pace_messages=50,
            pace_seconds=1.0,
        )
        .merge_toml("[surfaces.discord]\n" + extra)
        .inbox(
            "support",
            name="Support",
            channel="email",
            address="support@example.com",
            surface="discord",
            chat_channel=str(channel_id),
            timezone="Europe/Amsterdam",
        )
        .email_to_files(tmp / "out")
        .agent("alice", "Alice Martin", discord=str(ALICE))
        .agent("bob", "Bob Stone", discord=str(BOB))
        .set(
            "templates.refund_done",
            body="Hi {contact.first_name}, your refund for #{conversation.number} is on its way.",
        )
        .set("templates.shipping", body="Your parcel ships today.")
    )


def build_app(
    fake: FakeDiscord,
    tmp: Path,
    clock: ManualClock,
    channel_id: int,
    *,
    sync: bool = False,
    role: int | str = AGENT_ROLE,
    extra: str = "",
    undo: int = 0,
) -> tuple[Threadline, RecordingSender]:
    """An app on SQLite whose support inbox is mirrored into ``channel_id`` on the fake Discord.

    ``extra`` adds lines to ``[surfaces.discord]``; ``undo`` is the replies' undo window in seconds.
    """
    settings = discord_settings(fake, tmp, channel_id, sync=sync, role=role, extra=extra)
    settings.set("outbox", undo_seconds=undo)
    sender = RecordingSender()
    return Threadline(settings.settings(), clock=clock, extra_channels={"email": sender}), sender
