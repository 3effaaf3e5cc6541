"""Direct messages in the fake Discord: opening a DM channel, and what Discord refuses there.

- Create DM: ``POST /users/@me/channels`` with ``recipient_id`` answers the DM channel object
  (``type`` 1, ``recipients``), the same channel for the same user
  (https://discord.com/developers/docs/resources/user#create-dm).
- A user who blocked the bot, closed DMs from server members or shares no server with it cannot
  be messaged: ``403`` with code 50007 "Cannot send messages to this user"
  (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
- A user's DM to the bot arrives as MESSAGE_CREATE **without** ``guild_id`` and ``member``
  (https://discord.com/developers/docs/topics/gateway-events#message-create: "guild_id … member …
  only in guild messages"); it needs the DIRECT_MESSAGES intent. The DM stays in its channel, so
  Get Channel Messages reads it back (``written``; the bot reads a DM channel it has without
  further permissions, https://discord.com/developers/docs/resources/message#get-channel-messages).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from testkit.discord import payloads as p

__all__ = ["FakeDms"]


class FakeDms:
    """The DM channels of the fake; ``closed`` holds users Discord will not let the bot message."""

    def __init__(self, channels: dict[int, dict[str, Any]], snowflake: Any) -> None:
        self.channels = channels
        self.snowflake = snowflake
        self.closed: set[int] = set()
        self.cdn = ""  # base URL of users' files (set when the fake listens)
        self._by_user: dict[int, int] = {}
        self._files: dict[str, bytes] = {}
        self._written: dict[int, list[dict[str, Any]]] = {}  # DM channel -> the users' messages in it

    def open(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """Create DM (or the existing one)."""
        recipient = (body or {}).get("recipient_id")
        if recipient is None or not str(recipient).isdigit():
            raise p.FakeError(400, 50035, "Invalid Form Body: recipient_id is required")
        user = int(recipient)
        if user not in self._by_user:
            cid = self.snowflake()
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "recipients": [p.user(user, f"user{user}")],
            }
            self._by_user[user] = cid
        return self.channels[self._by_user[user]]

    def check_post(self, channel: dict[str, Any]) -> None:
        """Refuse a message to a DM channel whose user cannot be messaged."""
        if channel.get("type") == 1 and int(channel["recipients"][0]["id"]) in self.closed:
            raise p.FakeError(403, 50007, "Cannot send messages to this user")

    def channel_of(self, user: int) -> int:
        """The DM channel of ``user`` (opened if needed)."""
        return int(self.open({"recipient_id": str(user)})["id"])

    def attachment(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        """A user's file as an attachment object (its ``url`` served by the fake's CDN route)."""
        aid = str(self.snowflake())
        self._files[f"{aid}/{name}"] = data
        url = f"{self.cdn}/{aid}/{name}"
        return {
            "id": aid,
            "filename": name,
            "size": len(data),
            "content_type": content_type,
            "url": url,
            "proxy_url": url,
        }

    async def download(self, request: web.Request) -> web.Response:
        """GET of an attachment's URL."""
        data = self._files.get(f"{request.match_info['aid']}/{request.match_info['name']}")
        return web.Response(status=404) if data is None else web.Response(body=data)

    def user_message(
        self, user: int, name: str, text: str, attachments: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A user's DM to the bot as the gateway's MESSAGE_CREATE brings it (no guild_id, no member)."""
        cid = self.channel_of(user)
        mid = self.snowflake()
        message = p.message_fields(
            id=str(mid),
            channel_id=str(cid),
            author=p.user(user, name),
            content=text,
            attachments=attachments or [],
        )
        self._written.setdefault(cid, []).append(message)
        return message

    def written(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages users wrote in a DM channel, oldest first."""
        return list(self._written.get(channel_id, []))
