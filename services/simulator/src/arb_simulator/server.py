"""Serving a venue's protocol app on its own loopback port, with the core's HTTP faults.

The protocol app comes from the venue's ``VenueSpec.sim_app`` (``arb_venues.<venue>.sim``,
loaded on first use); a venue without one yet is skipped with one log line. The core wraps
every app in a middleware that applies the HTTP faults armed for that venue to REST requests
(WebSocket upgrades pass): "slow" delays the answer by ``delay_s``; "http_429", "http_418"
and "http_5xx" answer with the venue's own error body when the app provides one
(``simapi.ERROR_RESPONSE``), else with a generic JSON body and, for 429/418, a
``Retry-After`` header. HTTP faults are venue-wide (arm them without a symbol), or for the
requests whose path contains ``path`` (and whose method is ``method``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from arb_venues import get_venue
from arb_venues.base import Endpoints
from arb_venues.simapi import ERROR_RESPONSE, SimMarket
from yarl import URL

from arb_simulator.faults import ArmedFault, Faults

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATUS = {"http_429": 429, "http_418": 418}
HTTP_FAULTS = ("http_429", "http_418", "http_5xx")


def load_sim_app(venue: str, market: SimMarket) -> tuple[web.Application, Endpoints] | None:
    """The venue's protocol app over ``market`` and the venue's real endpoints (whose URL
    paths the app serves); None (logged) when the venue has no sim app yet."""
    try:
        spec = get_venue(venue)
    except (ImportError, AttributeError) as exc:
        log.warning("simulator: venue %s has no adapter package yet (%s); not served", venue, exc)
        return None
    try:
        app = spec.sim_app(market)
    except ModuleNotFoundError as exc:
        log.warning("simulator: venue %s has no sim app (%s); not served", venue, exc)
        return None
    return app, spec.endpoints


def local_url(real: str, scheme: str, host: str, port: int) -> str:
    """The real endpoint's URL moved to host:port, path kept (wss://ws.okx.com:8443/ws/v5/public
    -> ws://127.0.0.1:41234/ws/v5/public); "" when there is no real URL."""
    if not real:
        return ""
    path = URL(real).path.rstrip("/")
    return f"{scheme}://{host}:{port}{path}"


def error_response(app: web.Application, kind: str, fault: ArmedFault) -> web.StreamResponse:
    """The answer to an injected HTTP fault, in the venue's shape when the app has one."""
    responder = app.get(ERROR_RESPONSE)
    if responder is not None:
        return responder(kind, fault.retry_after_s)
    status = fault.status if kind == "http_5xx" else _STATUS[kind]
    headers = {}
    if kind in _STATUS:
        headers["Retry-After"] = str(max(1, math.ceil(fault.retry_after_s)))
    return web.json_response(
        {"error": kind, "message": f"simulated {status} (injected fault)"},
        status=status,
        headers=headers,
    )


def fault_middleware(app: web.Application, faults: Faults) -> Any:
    @web.middleware
    async def apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            where = {"path": request.path, "method": request.method}
            slow = faults.take_fault("slow", **where)
            if slow is not None:
                await asyncio.sleep(slow.delay_s)
            for kind in HTTP_FAULTS:
                fault = faults.take_fault(kind, **where)
                if fault is not None:
                    return error_response(app, kind, fault)
        return await handler(request)

    return apply_faults


def install_faults(app: web.Application, faults: Faults) -> None:
    """Make the fault middleware the outermost of ``app`` (before it is frozen)."""
    app.middlewares.insert(0, fault_middleware(app, faults))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (0 = a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class AppServer:
    """One aiohttp app on one socket."""

    def __init__(
        self,
        name: str,
        app: web.Application,
        host: str,
        port: int,
        endpoints: Endpoints | None = None,
    ) -> None:
        self.name = name
        self.app = app
        self.endpoints = endpoints
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            sock = bind_socket(self.host, self.port)
        except OSError as exc:
            await runner.cleanup()
            raise OSError(
                exc.errno,
                f"simulator {self.name}: cannot listen on {self.host}:{self.port} "
                f"({exc.strerror}); pick another port or 0 for a free one",
            ) from exc
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        if self.endpoints is not None:
            return local_url(self.endpoints.ws_url, "ws", self.host, self.port)
        return f"ws://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        if self.endpoints is not None:
            return local_url(self.endpoints.rest_url, "http", self.host, self.port)
        return self.http_url

    @property
    def ws_private_url(self) -> str:
        if self.endpoints is not None:
            return local_url(self.endpoints.ws_private_url, "ws", self.host, self.port)
        return ""

    def urls(self) -> dict[str, str]:
        """Where a client points its Endpoints: ws, rest (and ws_private if the venue has one)."""
        urls = {"ws": self.ws_url, "rest": self.rest_url}
        if self.ws_private_url:
            urls["ws_private"] = self.ws_private_url
        return urls

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
