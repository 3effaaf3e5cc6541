"""The one shared aiohttp web server: adapters mount their routes (webhooks), it serves ``/healthz``."""

from adapters.web.server import WebServer

__all__ = ["WebServer"]
