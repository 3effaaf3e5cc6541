"""Who is acting on Slack: display names from ``users.info`` and team membership, both cached.

Membership: with ``allowed_usergroup`` the members of that user group
(``usergroups.users.list``), with ``allowed_channel`` the members of that channel
(``conversations.members``); with both, either suffices; with neither, every
human user of the workspace may act. Lists are cached for
``membership_cache_seconds``; a user not in the cached list triggers one refresh
(rate-limited to once per 10 s) so a newly added teammate is not refused for minutes.

User groups need a paid Slack plan: on a free workspace ``usergroups.users.list`` answers
``paid_teams_only`` (https://docs.slack.dev/reference/methods/usergroups.users.list). Then the
gate falls back to ``allowed_channel``, or to the members of the inboxes' chat channels, and
says so once in the log with the fix; it never refuses everyone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
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
        self,
        client: AsyncWebClient,
        settings: SlackSettings,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        fallback_channels: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.settings = settings
        self._monotonic = monotonic
        self._fallback_channels = tuple(fallback_channels)
        self._usergroup_usable = True
        self._people: dict[str, tuple[float, Person]] = {}
        self._organisations: dict[str, str] = {}  # Slack Connect team id -> its name (or the id)
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

    async def organisation(self, team_id: str) -> str:
        """A Slack Connect organisation's name (``team.info`` with ``team``, scope ``team:read``,
        https://docs.slack.dev/reference/methods/team.info), asked once per team and kept; when Slack
        will not say (``team_not_found``, ``missing_scope``) its id, with one log line; unreachable, the
        id this time and the question again next time."""
        if team_id not in self._organisations:
            try:
                team = (await self.client.team_info(team=team_id))["team"]
            except Exception as exc:
                code = exc.response.get("error") if isinstance(exc, SlackApiError) else None
                log.warning(
                    "team.info failed; the organisation is shown by its id",
                    extra={"team": team_id, "error": code or exc.__class__.__name__},
                )
                if code is None:
                    return team_id
                team = {}
            self._organisations[team_id] = str(team.get("name") or team_id)
        return self._organisations[team_id]

    async def actor(self, user_id: str, fallback_name: str | None = None) -> Actor:
        """The core's Actor for a Slack user."""
        person = await self.person(user_id, fallback_name)
        return Actor("slack", user_id, person.name, person.email)

    @property
    def restricted(self) -> bool:
        """True when only a user group or channel may act."""
        return bool(self._group() or self._channels())

    def _channels(self) -> list[str]:
        """The channels whose members may act: ``allowed_channel``, or the fallback without user groups."""
        if self.settings.allowed_channel:
            return [self.settings.allowed_channel]
        unusable = self.settings.allowed_usergroup and not self._usergroup_usable
        return list(self._fallback_channels) if unusable else []

    def _group(self) -> str | None:
        return self.settings.allowed_usergroup if self._usergroup_usable else None

    def refusal(self) -> str:
        """What a user who may not act is told."""
        where = [f"the <!subteam^{group}> group"] if (group := self._group()) else []
        where += [f"<#{channel}>" for channel in self._channels()]
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
            if group := self._group():
                found.update(await self._group_members(group))
            for channel in self._channels():
                found.update(await self._channel_members(channel))
        except Exception as exc:
            log.warning("cannot load Slack team members", extra={"error": exc.__class__.__name__})
            return None
        return frozenset(found)

    async def _group_members(self, group: str) -> list[str]:
        try:
            return list((await self.client.usergroups_users_list(usergroup=group)).get("users") or [])
        except SlackApiError as exc:
            if exc.response.get("error") != "paid_teams_only":
                raise
        if not self._usergroup_usable:
            return []  # a concurrent load found out first and said so
        self._usergroup_usable = False
        log.warning(
            "surfaces.slack.allowed_usergroup needs a paid Slack plan (paid_teams_only); members of %s "
            "may act instead. Set surfaces.slack.allowed_channel, or remove allowed_usergroup.",
            ", ".join(self._channels()) or "the workspace",
        )
        return []

    async def _channel_members(self, channel: str) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            answer = await self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            members.extend(answer.get("members") or [])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members
