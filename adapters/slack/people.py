"""Who is acting on Slack: display names from ``users.info`` and team membership, both cached.

Membership: with ``allowed_usergroup`` the members of that user group
(``usergroups.users.list``), with ``allowed_channel`` the members of that channel
(``conversations.members``); with both, either suffices; with neither, every
human user of the workspace may act. Lists are cached for
``membership_cache_seconds``; a user not in the cached list triggers one refresh
(rate-limited to once per 10 s) so a newly added teammate is not refused for minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings
from bot.commands import Actor

__all__ = ["Directory", "Person"]

log = logging.getLogger(__name__)
_MIN_REFRESH = 10.0


@dataclass(frozen=True)
class Person:
    """A Slack user as Threadline sees them."""

    user_id: str
    name: str
    email: str | None
    is_bot: bool = False


class Directory:
    """Caches Slack users and the allowed members; answers "who is this" and "may they act"."""

    def __init__(
        self, client: AsyncWebClient, settings: SlackSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.settings = settings
        self._monotonic = monotonic
        self._people: dict[str, tuple[float, Person]] = {}
        self._members: frozenset[str] | None = None
        self._members_at = -1e18

    async def person(self, user_id: str, fallback_name: str | None = None) -> Person:
        """The user's name and email (``users.info``, cached); a failure falls back to the payload's name."""
        now = self._monotonic()
        cached = self._people.get(user_id)
        if cached is not None and now - cached[0] < 3600:
            return cached[1]
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except Exception as exc:
            log.warning("users.info failed", extra={"user": user_id, "error": exc.__class__.__name__})
            return Person(user_id, fallback_name or user_id, None)
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or fallback_name
            or user_id
        )
        person = Person(user_id, str(name), profile.get("email"), bool(user.get("is_bot")))
        self._people[user_id] = (now, person)
        return person

    async def actor(self, user_id: str, fallback_name: str | None = None) -> Actor:
        """The core's Actor for a Slack user."""
        person = await self.person(user_id, fallback_name)
        return Actor("slack", user_id, person.name, person.email)

    @property
    def restricted(self) -> bool:
        """True when only a user group or channel may act."""
        return bool(self.settings.allowed_usergroup or self.settings.allowed_channel)

    def refusal(self) -> str:
        """What a user who may not act is told."""
        where = []
        if self.settings.allowed_usergroup:
            where.append(f"the <!subteam^{self.settings.allowed_usergroup}> group")
        if self.settings.allowed_channel:
            where.append(f"<#{self.settings.allowed_channel}>")
        return (
            f"Only members of {' or '.join(where)} can work support conversations. "
            "Ask an admin to add you, then try again."
        )

    async def may_act(self, user_id: str) -> bool:
        """True when the user is a member of the allowed user group/channel (or nothing is configured)."""
        if not self.restricted:
            return True
        now = self._monotonic()
        members = self._members
        stale = now - self._members_at > self.settings.membership_cache_seconds
        if members is None or stale or (user_id not in members and now - self._members_at > _MIN_REFRESH):
            members = await self._load_members()
            if members is not None:
                self._members, self._members_at = members, now
            members = self._members
        return members is not None and user_id in members

    async def _load_members(self) -> frozenset[str] | None:
        found: set[str] = set()
        try:
            if self.settings.allowed_usergroup:
                answer = await self.client.usergroups_users_list(usergroup=self.settings.allowed_usergroup)
                found.update(answer.get("users") or [])
            if self.settings.allowed_channel:
                cursor: str | None = None
                while True:
                    answer = await self.client.conversations_members(
                        channel=self.settings.allowed_channel, limit=1000, cursor=cursor
                    )
                    found.update(answer.get("members") or [])
                    cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                    if not cursor:
                        break
        except Exception as exc:
            log.warning("cannot load Slack team members", extra={"error": exc.__class__.__name__})
            return None
        return frozenset(found)
