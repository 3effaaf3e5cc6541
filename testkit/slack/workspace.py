"""The fake Slack's workspace: users, user groups, channels (the bot in them or not), the app's DMs.

``users.info`` answers ``user_not_found`` for a user it does not know
(https://docs.slack.dev/reference/methods/users.info); ``conversations.info`` answers
``channel_not_found`` for a channel it does not know and ``is_member`` for one it does
(https://docs.slack.dev/reference/methods/conversations.info); on a free workspace
``usergroups.users.list`` answers ``paid_teams_only``
(https://docs.slack.dev/reference/methods/usergroups.users.list). ``invite``/``kick`` change the
bot's membership as ``/invite`` and ``/remove`` would. ``team.info`` names the workspace and the
Slack Connect organisations in ``teams`` (``team_not_found`` for another, ``missing_scope`` without
``team:read``; https://docs.slack.dev/reference/methods/team.info).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testkit.fake_api import Refusal

__all__ = ["Workspace"]


class Workspace:
    """Who and which channels the fake Slack knows (``FakeSlack`` holds the state named here)."""

    users: dict[str, dict[str, Any]]
    usergroups: dict[str, list[str]]
    members: dict[str, list[str]]
    channels: dict[str, dict[str, Any]]
    ims: dict[str, str]
    paid_workspace: bool
    teams: dict[str, dict[str, Any]]
    scopes: str

    if TYPE_CHECKING:  # FakeApi's (FakeSlack's last base): the refusal recorded in the call log

        def refuse(self, route: str, error: str, why: str) -> Refusal: ...

    def add_user(self, user_id: str, name: str, email: str | None = None, is_bot: bool = False) -> None:
        """Make ``users.info`` know a user."""
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "is_bot": is_bot,
            "profile": {"display_name": name, "real_name": name, "email": email},
        }

    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> None:
        """Make ``conversations.info`` know a public channel, with the bot in it or not."""
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": False,
            "is_archived": False,
            "is_member": member,
        }

    def open_im(self, user: str) -> str:
        """The app's DM channel with ``user`` (opened the first time they write to the app)."""
        channel = next((c for c, u in self.ims.items() if u == user), f"D{user.removeprefix('U')}")
        self.ims[channel] = user
        return channel

    def close_im(self, channel: str) -> None:
        """The DM is gone (its member was deactivated): Slack knows no such channel any more."""
        self.ims.pop(channel, None)

    def invite(self, channel_id: str) -> None:
        """The bot is invited into a known channel (``/invite @Threadline``)."""
        self.channels[channel_id]["is_member"] = True

    def kick(self, channel_id: str) -> None:
        """The bot is removed from a known channel (``/remove @Threadline``)."""
        self.channels[channel_id]["is_member"] = False

    def _team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``team.info`` (https://docs.slack.dev/reference/methods/team.info): the bot scope ``team:read``;
        ``team`` names the team, omitted the app's own; an unknown one is ``team_not_found``. A missing
        scope answers ``missing_scope`` with ``needed`` and ``provided``, as every method does
        (https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/type-aliases/TeamInfoResponse)."""
        if "team:read" not in self.scopes.split(","):
            self.refuse("team.info", "missing_scope", "team.info needs the bot scope team:read")
            return {"ok": False, "error": "missing_scope", "needed": "team:read", "provided": self.scopes}
        team = self.teams.get(str(args.get("team") or "T1"))
        if team is None:
            return {"ok": False, "error": "team_not_found"}
        return {"ok": True, "team": team}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.paid_workspace:
            return {"ok": False, "error": "paid_teams_only"}
        return {"ok": True, "users": self.usergroups.get(str(args.get("usergroup")), [])}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "members": self.members.get(str(args.get("channel")), []),
            "response_metadata": {"next_cursor": ""},
        }
