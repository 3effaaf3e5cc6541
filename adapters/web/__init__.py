"""The one shared aiohttp web server: adapters mount their routes (webhooks), it serves ``/healthz``,
``/readyz`` and ``/metrics`` (the Prometheus backend of ``bot.runtime.metrics`` is ``PrometheusRecorder``)."""

from adapters.web.metrics import PrometheusRecorder
from adapters.web.server import WebServer

__all__ = ["PrometheusRecorder", "WebServer"]
