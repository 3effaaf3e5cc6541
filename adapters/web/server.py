"""A small, generic aiohttp server that several adapters share (one web server per instance).

Adapters add routes before ``start()`` (the WhatsApp webhook, Slack HTTP mode);
the server always answers ``GET /healthz`` with ``200 ok`` (liveness: the loop
answers). ``serve_operations`` adds ``GET /readyz`` (200 or 503 with the JSON
state of the database and each channel and surface) and ``GET /metrics``
(Prometheus text). ``port=0`` binds a free port, readable from ``port`` after ``start()``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from bot.runtime.health import Readiness

__all__ = ["Handler", "WebServer"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
"""An aiohttp request handler."""


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


class WebServer:
    """The shared HTTP server; routes are mounted by adapters, then it is started once."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, client_max_size: int = 4 * 1024 * 1024
    ) -> None:
        self.host = host
        self._requested_port = port
        self._bound_port: int | None = None
        self.app = web.Application(client_max_size=client_max_size)
        self.app.router.add_get("/healthz", _healthz)
        self._mounted: list[str] = []
        self._runner: web.AppRunner | None = None

    @property
    def has_routes(self) -> bool:
        """True when some adapter mounted a route (``/healthz`` alone does not justify a listening port)."""
        return bool(self._mounted)

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._runner is not None

    @property
    def port(self) -> int:
        """The bound port once started (the requested one before)."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        """Mount aiohttp route definitions (``web.get(path, handler)`` …); only before ``start()``."""
        if self._runner is not None:
            raise RuntimeError("routes must be added before the web server starts")
        routes = list(routes)
        self.app.router.add_routes(routes)
        self._mounted.extend(str(getattr(route, "path", route)) for route in routes)

    def serve_operations(
        self,
        readiness: Callable[[], Awaitable[Readiness]],
        metrics: Callable[[], Awaitable[bytes]] | None = None,
        metrics_content_type: str = "text/plain; version=0.0.4; charset=utf-8",
    ) -> None:
        """Mount ``/readyz`` (and ``/metrics`` when ``metrics`` renders the exposition text)."""

        async def readyz(_: web.Request) -> web.Response:
            state = await readiness()
            return web.json_response(state.as_json(), status=200 if state.ready else 503)

        async def metrics_handler(_: web.Request) -> web.Response:
            assert metrics is not None
            body = await metrics()
            response = web.Response(body=body)
            response.headers["Content-Type"] = metrics_content_type
            return response

        self.app.router.add_get("/readyz", readyz)
        if metrics is not None:
            self.app.router.add_get("/metrics", metrics_handler)

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Mount one handler for ``method`` on ``path``."""
        self.add_routes([web.route(method, path, handler)])

    async def start(self) -> None:
        """Bind and serve; idempotent."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self._bound_port = int(address[1])
                break
        log.info(
            "web server listening", extra={"host": self.host, "port": self.port, "routes": len(self._mounted)}
        )

    async def stop(self) -> None:
        """Stop serving and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("web server stopped", extra={"port": self.port})
