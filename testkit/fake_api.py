"""What every platform fake shares: an aiohttp server on 127.0.0.1 (port 0), a log of the calls it got,
failures a test scripts ahead, and the record of what it refused.

The Slack (``testkit.slack.fake``), Discord (``testkit.discord.fake``) and Graph (``testkit.whatsapp.graph``)
fakes build on :class:`FakeApi`; each keeps its own routes, state and documented refusals (with their
citations) and names every request by a *route* string: Slack's Web API method (``chat.postMessage``),
Discord's ``METHOD /path``, Graph's ``messages`` or ``media``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

CallT = TypeVar("CallT")


@dataclass(frozen=True)
class Refusal:
    """A request the fake refused because the platform documents that it refuses it."""

    route: str
    error: str
    why: str


@dataclass
class ScriptedFailure:
    """An answer a test queued for calls whose route matches ``pattern``: the first ``after`` matching
    calls pass, the next ``times`` get ``answer`` (what that is depends on the fake)."""

    pattern: re.Pattern[str]
    answer: Any
    times: int = 1
    after: int = 0


@dataclass
class FakeApi(Generic[CallT]):
    """The shared part of a fake platform API: call log, scripted failures, refusals, the server."""

    calls: list[CallT] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    root: str = ""
    """``http://127.0.0.1:PORT`` once serving."""
    scripted: list[ScriptedFailure] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def record(self, call: CallT) -> CallT:
        """Log one call the fake received; return it."""
        self.calls.append(call)
        return call

    def script(self, route: str, answer: Any, *, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` calls whose route matches the regex ``route`` with ``answer``, after letting
        ``after`` of them through."""
        self.scripted.append(ScriptedFailure(re.compile(route), answer, times, after))

    def scripted_answer(self, route: str) -> Any | None:
        """The scripted answer for this call of ``route`` (used up by it), or None when it goes on."""
        for failure in self.scripted:
            if failure.times <= 0 or not failure.pattern.search(route):
                continue
            if failure.after > 0:
                failure.after -= 1
                continue
            failure.times -= 1
            return failure.answer
        return None

    def refuse(self, route: str, error: str, why: str) -> Refusal:
        """Record that the fake refused a call of ``route`` with ``error`` (``why``: the documented rule)."""
        refusal = Refusal(route, error, why)
        self.refusals.append(refusal)
        return refusal

    async def serve(self, app: web.Application) -> int:
        """Serve ``app`` on 127.0.0.1, a free port; set ``root`` and return the port."""
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.root = f"http://127.0.0.1:{port}"
        return port

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
