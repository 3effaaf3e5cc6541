"""The Prometheus backend of ``bot.runtime.metrics``: one registry per app, rendered at ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.runtime.metrics import DEFINITIONS, Metric

__all__ = ["CONTENT_TYPE", "PrometheusRecorder"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Content-Type of the text exposition format."""

_Collector = Counter | Gauge | Histogram


class PrometheusRecorder:
    """Implements ``bot.runtime.metrics.Recorder`` with ``prometheus_client`` on its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._collectors: dict[str, _Collector] = {}
        for metric in DEFINITIONS:
            self._collectors[metric.name] = self._make(metric)

    def _make(self, metric: Metric) -> _Collector:
        if metric.kind == "counter":
            return Counter(metric.name, metric.help, metric.labels, registry=self.registry)
        if metric.kind == "gauge":
            return Gauge(metric.name, metric.help, metric.labels, registry=self.registry)
        return Histogram(
            metric.name, metric.help, metric.labels, registry=self.registry, buckets=metric.buckets
        )

    def _child(self, metric: Metric, labels: Mapping[str, str]) -> _Collector:
        collector = self._collectors.get(metric.name)
        if collector is None:  # a metric defined after start: register it on first use
            collector = self._collectors[metric.name] = self._make(metric)
        if metric.labels:
            return collector.labels(**{name: str(labels.get(name, "")) for name in metric.labels})
        return collector

    def inc(self, metric: Metric, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Add to a counter."""
        child = self._child(metric, labels)
        assert isinstance(child, Counter)
        child.inc(amount)

    def observe(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Observe a histogram value."""
        child = self._child(metric, labels)
        assert isinstance(child, Histogram)
        child.observe(value)

    def set_gauge(self, metric: Metric, labels: Mapping[str, str], value: float) -> None:
        """Set a gauge."""
        child = self._child(metric, labels)
        assert isinstance(child, Gauge)
        child.set(value)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
