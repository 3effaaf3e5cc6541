"""The fake Discord's messages: posting (with ``nonce``), history paging, pins.

``nonce`` with ``enforce_nonce`` returns the earlier message instead of posting twice
(https://discord.com/developers/docs/resources/message#create-message: "If true and nonce is
present, it will be checked for uniqueness in the past few minutes. If another message was created
by the same author with the same nonce, that message will be returned and no new message will be
created."). Stricter where the docs are vague: only within ``NONCE_SECONDS`` (2 minutes) and only in
the same channel; without ``enforce_nonce`` a repeated nonce posts again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from testkit.discord import payloads as p
from testkit.discord.dms import FakeDms
from testkit.discord.limits import check_new_message
from testkit.discord.payloads import BOT_ID

__all__ = ["NONCE_SECONDS", "Messages"]

NONCE_SECONDS = 120.0  # "the past few minutes": the fake keeps a nonce 2 minutes (stricter)


class Messages:
    """The message routes of ``FakeDiscord`` (which holds the state named here)."""

    channels: dict[int, dict[str, Any]]
    messages: dict[int, dict[str, Any]]
    pins: dict[int, list[int]]
    dms: FakeDms
    nonce_clock: Callable[[], float]
    _nonces: dict[tuple[int, str], tuple[int, float]]
    snowflake: Callable[[], int]
    posts: Callable[[int], list[dict[str, Any]]]
    _unarchive_for_message: Callable[[dict[str, Any]], None]
    _unknown: Callable[[str, str], web.Response]

    def _pins(self, channel: dict[str, Any], method: str, rest: list[str]) -> web.Response:
        """Message resource, "Pin Message" (``PUT /channels/{id}/messages/pins/{message}``, 204; at most
        250 pins per channel, error 30003 — the fake allows 50: stricter) and "Get Channel Pins"
        (``GET /channels/{id}/messages/pins``: ``{"items": [{"pinned_at", "message"}], "has_more"}``)."""
        cid = int(channel["id"])
        pinned = self.pins.setdefault(cid, [])
        if method == "PUT" and len(rest) == 1:
            self._message(cid, rest[0])
            if int(rest[0]) not in pinned:
                if len(pinned) >= 50:
                    raise p.FakeError(400, 30003, "Maximum number of pins reached (50)")
                pinned.append(int(rest[0]))
            return web.Response(status=204)
        if method == "GET" and not rest:
            live = [mid for mid in pinned if mid in self.messages]
            items = [{"pinned_at": p.NOW, "message": self.messages[mid]} for mid in reversed(live)]
            return p.json_response({"items": items, "has_more": False})
        return self._unknown(method, f"/channels/{cid}/messages/pins/{'/'.join(rest)}")

    def _history(self, cid: int, query: dict[str, str]) -> list[dict[str, Any]]:
        """Message resource, "Get Channel Messages": ``before``/``after`` ids, ``limit`` 1-100 (50),
        newest first; with ``after`` the ``limit`` messages right after that id (what paging forward
        relies on), else the newest before ``before``. A DM channel holds the users' messages too."""
        if cid not in self.channels:
            raise p.FakeError(404, 10003, "Unknown Channel")
        limit = int(query.get("limit", 50))
        if not 1 <= limit <= 100:
            raise p.FakeError(
                400, 50035, "Invalid Form Body\nIn limit: int value should be between 1 and 100."
            )
        after, before = int(query.get("after", 0)), int(query.get("before", 2**64))
        found = [m for m in [*self.posts(cid), *self.dms.written(cid)] if after < int(m["id"]) < before]
        if "after" in query and "before" not in query:
            return sorted(
                sorted(found, key=lambda m: int(m["id"]))[:limit], key=lambda m: int(m["id"]), reverse=True
            )
        return sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit]

    @staticmethod
    def _own(message: dict[str, Any]) -> dict[str, Any]:
        """Only the bot's own messages can be edited (Message resource, "Edit Message": "Only messages
        sent by the current user can be edited"; 50005 "Cannot edit a message authored by another
        user", https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes)."""
        if str((message.get("author") or {}).get("id")) != str(BOT_ID):
            raise p.FakeError(403, 50005, "Cannot edit a message authored by another user")
        return message

    def _message(self, cid: int, mid: str) -> dict[str, Any]:
        message = self.messages.get(int(mid))
        if message is None or int(message["channel_id"]) != cid:
            raise p.FakeError(404, 10008, "Unknown Message")
        return message

    def _post(
        self, channel: dict[str, Any], body: dict[str, Any], files: list[tuple[str, bytes]], size: int
    ) -> Any:
        if channel["type"] == 15:
            raise p.FakeError(400, 40058, "Cannot send a message in a forum channel")
        self.dms.check_post(channel)
        check_new_message(body, files, size=size)
        cid = int(channel["id"])
        nonce = body.get("nonce")
        now = self.nonce_clock()
        if nonce is not None and body.get("enforce_nonce"):
            mid, when = self._nonces.get((cid, str(nonce)), (0, 0.0))
            earlier = self.messages.get(mid)
            if earlier is not None and now - when <= NONCE_SECONDS:
                return earlier
        self._unarchive_for_message(channel)
        made = self._new_message(cid, body, files)
        if nonce is not None:
            self._nonces[(cid, str(nonce))] = (int(made["id"]), now)
        return made

    def _new_message(
        self,
        cid: int,
        body: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        webhook: bool = False,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        mid = message_id or self.snowflake()
        made = p.message(mid, cid, body, [(n, d, self.snowflake()) for n, d in files], webhook=webhook)
        if not webhook:
            self.messages[mid] = made
        return made
