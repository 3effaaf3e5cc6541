"""Metrics the core records, without a metrics library: definitions plus a tiny recording port.

The core calls ``inc``/``observe``/``set_gauge`` with a ``Metric`` from this module;
they go to the installed ``Recorder`` (by default one that drops everything). The
Prometheus implementation lives in ``adapters/web/metrics.py`` and is installed by
``threadline/app.py``. Label values are short, bounded sets (channel, surface, kind,
destination): never addresses, conversation numbers or message text.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

__all__ = [
    "COMMAND_SECONDS",
    "DEFINITIONS",
    "DELIVERIES",
    "DELIVERY_FAILURES",
    "DELIVERY_SECONDS",
    "DESTINATION_DOWN",
    "MESSAGES_IN",
    "MESSAGES_OUT",
    "OUTBOX_AGE",
    "OUTBOX_DEPTH",
    "PACING_SKIPPED",
    "RATE_LIMITED",
    "SLA_REMINDERS",
    "WEBHOOKS_UNROUTED",
    "Exporter",
    "Metric",
    "NullRecorder",
    "Recorder",
    "current",
    "inc",
    "install",
    "observe",
    "set_gauge",
    "timed",
    "timed_by",
]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Metric:
    """One metric: Prometheus-style ``name``, ``kind``, ``help`` text, label names, histogram buckets."""

    name: str
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

MESSAGES_IN = Metric("threadline_messages_in_total", "counter", "Customer messages stored", ("channel",))
MESSAGES_OUT = Metric(
    "threadline_messages_out_total", "counter", "Replies delivered to customers", ("channel",)
)
DELIVERIES = Metric(
    "threadline_deliveries_total", "counter", "Outbox rows delivered", ("destination", "kind")
)
DELIVERY_FAILURES = Metric(
    "threadline_delivery_failures_total",
    "counter",
    "Outbox delivery attempts that failed (final=true: given up)",
    ("destination", "kind", "final"),
)
DELIVERY_SECONDS = Metric(
    "threadline_delivery_seconds", "histogram", "Time one delivery took", ("destination",), _LATENCY
)
PACING_SKIPPED = Metric(
    "threadline_card_edits_skipped_total",
    "counter",
    "Card edits not sent because the card had not changed",
    ("surface",),
)
RATE_LIMITED = Metric(
    "threadline_rate_limited_total",
    "counter",
    "Delivery attempts a destination answered with a rate limit (429, WhatsApp 130429/131056, SMTP 4xx)",
    ("destination",),
)
OUTBOX_DEPTH = Metric("threadline_outbox_depth", "gauge", "Pending outbox rows")
OUTBOX_AGE = Metric("threadline_outbox_oldest_age_seconds", "gauge", "Age of the oldest pending outbox row")
DESTINATION_DOWN = Metric(
    "threadline_destination_down", "gauge", "1 while a channel or surface keeps failing", ("destination",)
)
SLA_REMINDERS = Metric(
    "threadline_sla_reminders_total", "counter", "SLA reminders and breach notices written", ()
)
COMMAND_SECONDS = Metric(
    "threadline_command_seconds", "histogram", "Time to handle one team command", ("ok",), _LATENCY
)
WEBHOOKS_UNROUTED = Metric(
    "threadline_webhooks_unrouted_total",
    "counter",
    "Webhook messages and receipts for an account no inbox is configured for (not stored)",
    ("channel", "kind"),
)

DEFINITIONS: tuple[Metric, ...] = (
    MESSAGES_IN,
    MESSAGES_OUT,
    DELIVERIES,
    DELIVERY_FAILURES,
    DELIVERY_SECONDS,
    PACING_SKIPPED,
    RATE_LIMITED,
    OUTBOX_DEPTH,
    OUTBOX_AGE,
    DESTINATION_DOWN,
    SLA_REMINDERS,
    COMMAND_SECONDS,
    WEBHOOKS_UNROUTED,
)
"""Every metric the core records; a backend registers exactly these."""


class Recorder(Protocol):
    """The recording port a metrics backend implements."""

    def inc(self, metric: Metric, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Add ``amount`` to a counter."""
        ...

    def observe(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Record one observation of a histogram."""
        ...

    def set_gauge(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Set a gauge."""
        ...


class Exporter(Recorder, Protocol):
    """A recorder that can also render what it recorded (Prometheus text for ``/metrics``)."""

    def render(self) -> bytes:
        """Every metric in the backend's exposition format."""
        ...


class NullRecorder:
    """Drops everything (the default: tests and installations without metrics)."""

    def inc(self, metric: Metric, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Do nothing."""

    def observe(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Do nothing."""

    def set_gauge(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Do nothing."""


_current: Recorder = NullRecorder()


def install(recorder: Recorder | None) -> None:
    """Make ``recorder`` the process's recorder (None: back to dropping everything)."""
    global _current
    _current = recorder if recorder is not None else NullRecorder()


def current() -> Recorder:
    """The installed recorder."""
    return _current


def inc(metric: Metric, amount: float = 1.0, **labels: str) -> None:
    """Add to a counter of the installed recorder."""
    _current.inc(metric, labels, amount)


def observe(metric: Metric, value: float, **labels: str) -> None:
    """Observe a histogram value on the installed recorder."""
    _current.observe(metric, labels, value)


def set_gauge(metric: Metric, value: float, **labels: str) -> None:
    """Set a gauge on the installed recorder."""
    _current.set_gauge(metric, labels, value)


def timed(
    metric: Metric, call: Callable[..., Awaitable[T]], ok: Callable[[T], bool] | None = None
) -> Callable[..., Awaitable[T]]:
    """Wrap an async ``call`` so each call's duration is observed on ``metric`` (label ``ok``)."""

    async def wrapper(*args: object, **kwargs: object) -> T:
        started = time.perf_counter()
        result: T | None = None
        try:
            result = await call(*args, **kwargs)
            return result
        finally:
            good = result is not None and (ok is None or ok(result))
            observe(metric, time.perf_counter() - started, ok=str(good).lower())

    return wrapper


def timed_by(
    metric: Metric, ok: Callable[[Any], bool] | None = None
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """Decorator form of ``timed`` for coroutine functions and methods (the signature is kept)."""

    def decorate(function: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            started = time.perf_counter()
            good = False
            try:
                result = await function(*args, **kwargs)
                good = ok is None or ok(result)
                return result
            finally:
                observe(metric, time.perf_counter() - started, ok=str(good).lower())

        return wrapper

    return decorate
