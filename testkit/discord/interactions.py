"""The fake Discord's interaction answers: the callback, then follow-ups and edits of the original.

An interaction is answered once: a second callback answers 40060 "Interaction has already been
acknowledged" (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes);
follow-ups and ``@original`` edits go to the interaction's webhook, which exists only after the
callback (10015 Unknown Webhook before;
https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages). Answers
carry the message limits (``testkit.discord.limits``). An answer in an archived thread is refused
with 50083, as reported in discord-api-docs issue 5517 (stricter than Discord where it is unclear).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from testkit.discord import payloads as p
from testkit.discord.limits import check_message, check_new_message
from testkit.discord.payloads import APP_ID

__all__ = ["Interactions", "Response"]


@dataclass
class Response:
    """What an interaction was answered with: the callback type, the original response, follow-ups."""

    kind: int
    original: dict[str, Any] | None
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def loading(self) -> bool:
        """Deferred and not yet edited: the user still sees "thinking…"."""
        return self.kind == 5 and self.original is None


class Interactions:
    """The interaction routes of ``FakeDiscord`` (which holds the state named here)."""

    channels: dict[int, dict[str, Any]]
    responses: dict[str, Response]
    interaction_channels: dict[str, int]
    snowflake: Callable[[], int]
    _new_message: Callable[..., dict[str, Any]]
    _unknown: Callable[[str, str], web.Response]

    def _callback(
        self, iid: int, token: str, body: dict[str, Any], files: list[tuple[str, bytes]], size: int
    ) -> dict[str, Any]:
        if token in self.responses:
            raise p.FakeError(400, 40060, "Interaction has already been acknowledged.")
        channel = self.channels.get(self.interaction_channels.get(token, 0))
        if channel is not None and channel.get("thread_metadata", {}).get("archived"):
            raise p.FakeError(400, 50083, "Thread is archived")
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        original: dict[str, Any] | None = None
        if kind in (4, 7):
            check_new_message(data, files, size=size)
            original = dict(data)
        self.responses[token] = Response(kind, original)
        return p.callback(iid, body, self.snowflake())

    def _webhook_route(
        self,
        method: str,
        token: str,
        rest: list[str],
        body: dict[str, Any],
        files: list[tuple[str, bytes]],
        size: int,
    ) -> web.Response:
        response = self.responses.get(token)
        if response is None:
            raise p.FakeError(404, 10015, "Unknown Webhook")  # no callback yet: no webhook to follow up on
        if not rest and method == "POST":
            check_new_message(body, files, size=size)
            response.followups.append(dict(body))
            return p.json_response(self._new_message(0, body, files, webhook=True))
        if rest == ["messages", "@original"] and method == "PATCH":
            check_message(body, files, size=size)
            response.original = {**(response.original or {}), **body}
            return p.json_response(self._new_message(0, response.original, files, webhook=True))
        return self._unknown(method, f"/webhooks/{APP_ID}/{token}/{'/'.join(rest)}")
