"""The fake Discord's threads: archived and locked threads, the guild's cap on active threads, forum posts.

- archived threads (https://discord.com/developers/docs/topics/threads, "Active & Archived Threads"):
  "users cannot edit messages, add reactions, use application commands, or join archived threads";
  "sending a message will automatically unarchive the thread, unless the thread has been locked by a
  moderator" (locked: 160005); other edits of an archived thread answer 50083;
- at most ``active_thread_limit`` active threads in the guild (160006; Threads topic: "guilds are capped
  at a certain number of active threads"; 1,000 per the Discord Help Center);
- a forum channel with the REQUIRE_TAG flag (Channel resource, channel flags, 1 << 4) refuses a post
  without a tag (40067); at most 5 applied tags, each one of the forum's (Channel resource, "Start
  Thread in Forum or Media Channel");
- ``GET /guilds/{id}/threads/active`` lists the active threads newest first (``_active_thread_list``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from testkit.discord import payloads as p
from testkit.discord.limits import check_new_message, check_thread_name
from testkit.discord.payloads import BOT_ID

__all__ = ["ACTIVE_THREADS", "REQUIRE_TAG", "TAGS_PER_POST", "Threads"]

REQUIRE_TAG = 1 << 4
"""Channel flag: the forum requires a tag on every post."""
TAGS_PER_POST = 5
ACTIVE_THREADS = 1000


class Threads:
    """The thread rules of ``FakeDiscord`` (which holds the state named here)."""

    channels: dict[int, dict[str, Any]]
    no_access: set[int]
    active_thread_limit: int
    snowflake: Callable[[], int]
    _new_message: Callable[..., dict[str, Any]]

    def archive(self, thread_id: int, *, locked: bool = False) -> None:
        """Archive a thread (inactivity, or a moderator; ``locked``: a moderator locked it too)."""
        meta = self.channels[thread_id]["thread_metadata"]
        meta["archived"], meta["locked"] = True, locked

    def archived(self, thread_id: int) -> bool:
        """Whether the thread is archived now."""
        return bool(self.channels[thread_id].get("thread_metadata", {}).get("archived"))

    def _active_thread_list(self) -> dict[str, Any]:
        """Guild resource, "List Active Guild Threads" (``GET /guilds/{guild.id}/threads/active``,
        https://discord.com/developers/docs/resources/guild#list-active-guild-threads): "all active
        threads in the guild, including public and private threads", "ordered by their id, in descending
        order", as ``{"threads": [channel], "members": [thread member]}`` with a member object for each
        returned thread the bot has joined (it joins the threads it opens). Archived threads are not
        active. Stricter than the docs say: threads of a channel the bot cannot see are left out."""
        threads = [
            c
            for c in self.channels.values()
            if "thread_metadata" in c
            and not c["thread_metadata"]["archived"]
            and int(c.get("parent_id") or 0) not in self.no_access
        ]
        threads.sort(key=lambda c: int(c["id"]), reverse=True)
        members = [
            {"id": c["id"], "user_id": str(BOT_ID), "join_timestamp": p.NOW, "flags": 1}
            for c in threads
            if str(c.get("owner_id")) == str(BOT_ID)
        ]
        return {"threads": threads, "members": members}

    @staticmethod
    def _active(channel: dict[str, Any]) -> None:
        if channel.get("thread_metadata", {}).get("archived"):
            raise p.FakeError(400, 50083, "Thread is archived")

    def _active_threads(self) -> int:
        return sum(
            1
            for c in self.channels.values()
            if "thread_metadata" in c and not c["thread_metadata"]["archived"]
        )

    def _room_for_a_thread(self) -> None:
        if self._active_threads() >= self.active_thread_limit:
            raise p.FakeError(400, 160006, "Maximum number of active threads reached")

    def _unarchive_for_message(self, channel: dict[str, Any]) -> None:
        meta = channel.get("thread_metadata")
        if meta is None or not meta["archived"]:
            return
        if meta["locked"]:
            raise p.FakeError(403, 160005, "Thread is locked")
        self._room_for_a_thread()
        meta["archived"] = False

    def _edit_channel(self, channel: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        meta = channel.get("thread_metadata")
        if meta is not None and "archived" in body:
            if meta["archived"] and not body["archived"]:
                self._room_for_a_thread()
            meta["archived"] = bool(body["archived"])
        elif meta is not None:
            self._active(channel)  # other edits of an archived thread are refused
        if "name" in body:
            check_thread_name(body["name"])
            channel["name"] = body["name"]
        if "applied_tags" in body:
            parent = self.channels.get(int(channel.get("parent_id") or 0), {})
            channel["applied_tags"] = self._tags(parent, body["applied_tags"])
        return channel

    def _tags(self, forum: dict[str, Any], tags: Any) -> list[str]:
        tags = [str(t) for t in tags or []]
        known = {t["id"] for t in forum.get("available_tags", [])}
        if len(tags) > TAGS_PER_POST or not set(tags) <= known:
            raise p.FakeError(400, 50035, "Invalid Form Body\nIn applied_tags: unknown tag or more than 5")
        if not tags and forum.get("flags", 0) & REQUIRE_TAG:
            raise p.FakeError(400, 40067, "A tag is required to create a forum post in this channel")
        return tags

    def _new_thread(
        self, parent: dict[str, Any], body: dict[str, Any], files: list[tuple[str, bytes]], size: int
    ) -> Any:
        check_thread_name(body.get("name"))
        if parent["type"] == 15:
            body = {**body, "applied_tags": self._tags(parent, body.get("applied_tags"))}
            check_new_message(body.get("message"), files, size=size)
        self._room_for_a_thread()
        tid = self.snowflake()
        made = p.thread(tid, parent, body)
        self.channels[tid] = made
        if parent["type"] == 15:
            return {**made, "message": self._new_message(tid, body.get("message", {}), files, message_id=tid)}
        return made
