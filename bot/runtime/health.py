"""Readiness: is this instance able to do its work? (``/readyz``; ``/healthz`` is liveness only.)

The model: the database must answer, and every registered channel component must say
it is connected. The status code means "this instance can durably accept work": a chat
surface (``surface:*``) that is connecting, down or refusing the bot is reported in the
body, with each surface's and chat channel's real state (``surfaces``, ``channels``: "ok",
"broken: <reason>"), but never turns ``/readyz`` into 503 — a load balancer would
otherwise take every instance out because Slack refuses a token. Adapters report through a small
port, ``Probe``: a callable the web handler asks at request time (an IMAP worker's
``connected`` flag, the Discord gateway's ready flag). Components that only learn
their state by trying (the outbox finds Slack answering 5xx) push it with
``Health.report``. A component on standby (a mailbox another instance holds the
lease for) is ready: it is not this instance's job right now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from storage import Store

__all__ = ["SURFACE_PREFIX", "ComponentState", "Health", "Probe", "Readiness"]

SURFACE_PREFIX = "surface:"
"""Components named so are chat surfaces: shown in ``/readyz``, not counted towards its status."""


@dataclass(frozen=True)
class ComponentState:
    """One component's state: ``ok`` counts towards readiness, ``detail`` says why (no secrets);
    ``sign_in`` when the cause is a refused or expired sign-in (someone must act; no reconnecting helps)."""

    ok: bool
    detail: str = ""
    sign_in: bool = False


class Probe(Protocol):
    """The port adapters implement: answer the component's state now, cheaply, without I/O."""

    def __call__(self) -> ComponentState:
        """The state of the component right now."""
        ...


@dataclass(frozen=True)
class Readiness:
    """The answer of ``Health.readiness``: overall ``ready`` and each component's state."""

    ready: bool
    components: dict[str, ComponentState] = field(default_factory=dict)
    mirrors: dict[str, dict[str, str]] = field(default_factory=dict)  # "surfaces", "channels" -> states

    def as_json(self) -> dict[str, object]:
        """A JSON-able form for ``/readyz``."""
        return {
            "ready": self.ready,
            "components": {
                name: {"ok": state.ok, "detail": state.detail}
                for name, state in sorted(self.components.items())
            },
            **self.mirrors,
        }


class Health:
    """Collects probes and pushed reports; ``readiness()`` adds a live database check."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        database_timeout: float = 2.0,
        ping: Callable[[], Awaitable[bool]] | None = None,
        mirrors: Callable[[], dict[str, dict[str, str]]] = dict,
        probes: Mapping[str, Probe] | None = None,
    ) -> None:
        """``mirrors``: each surface's and chat channel's state, for the body (``Repairs.report``);
        ``probes``: the components known when it is built (each plug's connection, ``surface:<name>``)."""
        self._ping = ping or (store.ping if store is not None else None)
        self.database_timeout = database_timeout
        self._probes: dict[str, Probe] = dict(probes or {})
        self._reports: dict[str, tuple[ComponentState, float]] = {}
        self.mirrors = mirrors

    def register(self, name: str, probe: Probe) -> None:
        """Ask ``probe`` for ``name``'s state on every readiness check from now on (a mailbox reader
        as operations starts it, ``mailbox:<name>``)."""
        self._probes[name] = probe

    def report(self, name: str, ok: bool, detail: str = "") -> None:
        """Push ``name``'s state (used where the state is learnt by trying, e.g. deliveries failing)."""
        self._reports[name] = (ComponentState(ok, detail), time.monotonic())

    def forget(self, name: str) -> None:
        """Drop a pushed report (the component is gone or fine again)."""
        self._reports.pop(name, None)

    async def database(self) -> ComponentState:
        """Run a trivial query with a timeout."""
        if self._ping is None:
            return ComponentState(True, "not checked")
        try:
            ok = await asyncio.wait_for(self._ping(), self.database_timeout)
        except TimeoutError:
            return ComponentState(False, f"no answer within {self.database_timeout:g}s")
        except Exception as exc:  # a readiness probe never raises
            return ComponentState(False, exc.__class__.__name__)
        return ComponentState(ok, "reachable" if ok else "unreachable")

    def components(self) -> dict[str, ComponentState]:
        """Every probed and reported component's current state (a failing probe counts as not ok)."""
        states: dict[str, ComponentState] = {}
        for name, probe in self._probes.items():
            try:
                states[name] = probe()
            except Exception as exc:
                states[name] = ComponentState(False, f"probe failed: {exc.__class__.__name__}")
        for name, (state, _) in self._reports.items():
            if name in states and not state.ok:
                states[name] = state  # a pushed failure wins over "connected"
            states.setdefault(name, state)
        return states

    async def readiness(self) -> Readiness:
        """Ready when the database answers and every component but the chat surfaces is ok."""
        states = {"database": await self.database(), **self.components()}
        ready = all(state.ok for name, state in states.items() if not name.startswith(SURFACE_PREFIX))
        return Readiness(ready, states, self.mirrors())
