"""Every WS connection a simulated venue holds, its lifetime, and maintenance with notice.

The core sees each connection of a venue's protocol app through aiohttp's
``on_response_prepare`` signal (a WebSocketResponse being prepared), so no venue app keeps a
list of its own. Two rules act on them:

- **Lifetime**: a connection older than the venue's ``VenueSpec.connection_lifetime_s`` (the
  documented one, e.g. Binance 24 h; the engine's conservative default where none is
  documented), times ``lifetime_scale``, is closed by the server (code 1001 "going away"),
  as the venue does at that mark.
- **Maintenance**: the server goes away for an upgrade. Every connection open at that moment
  gets the venue's reconnect notice where the venue documents one (the app stores its frame
  under ``simapi.RECONNECT_NOTICE``: Binance ``serverShutdown``, OKX notice 64008, Bitfinex
  info 20051), and is closed ``notice_s`` later. New connections are accepted all along (they
  reach a server that is not going away), so a client that moves on the notice loses nothing.
  A venue without a notice restarts its gateways one at a time, as venues roll an upgrade
  through a fleet behind a load balancer: the connections open at that moment are cut without
  warning one by one, ``gap_s`` apart (a new connection reaches a gateway already restarted),
  so a client with a hot standby on a second connection loses nothing either.
- **Halt**: the venue is down for declared maintenance, trading stopped: every connection is
  closed at once with code 1013 ("try again later", reason "maintenance"), and so is every new
  one until the halt ends. No standby helps; the client sees the venue declared down.
- **Cut**: one connection closed now without warning (``cut``), the single gateway restart
  a test aims at a chosen connection.

``describe()`` lists open and recently closed connections with the client's address, so a
test can tell at the server's side which connection is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, web
from arb_venues.simapi import RECONNECT_NOTICE

from arb_simulator import metrics

log = logging.getLogger(__name__)
_ids = itertools.count(1)
CLOSED_KEPT = 200  # closed connections remembered for describe()


@dataclass(eq=False, slots=True)
class _Conn:
    id: int
    ws: web.WebSocketResponse
    peer: str
    path: str
    opened: float  # monotonic
    closed: float | None = None
    reason: str = ""  # why the server closed it ("" = the client did, or it broke)


class Connections:
    """The WS connections of one venue's server (see the module docstring)."""

    def __init__(self, venue: str, lifetime_s: float | None) -> None:
        self.venue = venue
        self.lifetime_s = lifetime_s
        self.open: dict[int, _Conn] = {}
        # What describe() shows of the connections that ended: rows, not the connections (a
        # closed WebSocketResponse holds its request, buffers and transport: keeping 200 per
        # venue grew the simulator by MBs a minute in a soak of frequent rotations).
        self.closed: deque[dict[str, Any]] = deque(maxlen=CLOSED_KEPT)
        self.total = 0
        self.closed_by: dict[str, int] = {}  # reason -> connections the server closed
        self.notices_sent = 0
        self.halted_until = 0.0  # monotonic: a halt refuses connections until then
        self._app: web.Application | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def install(self, app: web.Application) -> None:
        """Watch every WS connection of ``app`` (before it is frozen)."""
        self._app = app
        app.on_response_prepare.append(self._on_prepare)

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if not isinstance(response, web.WebSocketResponse):
            return
        peer = request.transport.get_extra_info("peername") if request.transport else None
        conn = _Conn(next(_ids), response, _address(peer), request.path, time.monotonic())
        self.open[conn.id] = conn
        self.total += 1
        if time.monotonic() < self.halted_until:
            self._spawn(self._refuse(conn))

    async def _refuse(self, conn: _Conn) -> None:
        await asyncio.sleep(0)  # once the handshake is out: the client reads the close
        if not conn.ws.closed:
            self._close(conn, "halt", WSCloseCode.TRY_AGAIN_LATER)

    # ---------------------------------------------------------------- rules

    def sweep(self, now: float | None = None) -> None:
        """Forget connections that ended; close those past their lifetime."""
        now = time.monotonic() if now is None else now
        for conn in list(self.open.values()):
            if conn.ws.closed:
                self._ended(conn, now)
            elif self.lifetime_s is not None and now - conn.opened >= self.lifetime_s:
                self._close(conn, "lifetime")

    def maintenance(self, notice_s: float, gap_s: float = 0.0) -> dict[str, Any]:
        """Take the server down for an upgrade: notice to every open connection (where the
        venue has one), each closed ``notice_s`` later; without a notice, each cut in turn,
        ``gap_s`` apart (a rolling gateway restart). What was done."""
        notice = self._app.get(RECONNECT_NOTICE) if self._app is not None else None
        targets = [c for c in self.open.values() if not c.ws.closed]
        for conn in targets:
            if notice is not None:
                self._spawn(conn.ws.send_str(notice()))
                self.notices_sent += 1
                metrics.NOTICES.labels(self.venue).inc()
        delay = notice_s if notice is not None else 0.0
        gap = 0.0 if notice is not None else gap_s

        async def close_later() -> None:
            await asyncio.sleep(delay)
            for i, conn in enumerate(sorted(targets, key=lambda c: c.id)):
                if i and gap:
                    await asyncio.sleep(gap)
                if not conn.ws.closed:
                    self._close(conn, "maintenance")

        self._spawn(close_later())
        log.info("simulator %s: maintenance: %d connections%s", self.venue, len(targets),
                 f", notice {delay:g}s ahead" if notice is not None else ", no notice")  # fmt: skip
        return {"venue": self.venue, "connections": [c.id for c in targets],
                "notice": notice is not None, "close_in_s": delay, "gap_s": gap}  # fmt: skip

    def halt(self, duration_s: float) -> dict[str, Any]:
        """The venue down for declared maintenance for ``duration_s``: every connection
        closed now with code 1013, new ones too until it ends. What was done."""
        self.halted_until = time.monotonic() + duration_s
        targets = [c for c in self.open.values() if not c.ws.closed]
        for conn in targets:
            self._close(conn, "halt", WSCloseCode.TRY_AGAIN_LATER)
        log.info("simulator %s: halted for %gs: %d connections closed", self.venue, duration_s,
                 len(targets))  # fmt: skip
        return {"venue": self.venue, "connections": [c.id for c in targets],
                "halt_s": duration_s}  # fmt: skip

    def cut(self, conn_id: int | None = None) -> dict[str, Any]:
        """Close one open connection now without warning (the oldest without ``conn_id``);
        ValueError when there is none such."""
        live = {c.id: c for c in self.open.values() if not c.ws.closed}
        if conn_id is None and live:
            conn_id = min(live)
        conn = live.get(conn_id) if conn_id is not None else None
        if conn is None:
            raise ValueError(f"{self.venue}: no open connection {conn_id}; open: {sorted(live)}")
        self._close(conn, "cut")
        log.info("simulator %s: connection %d cut", self.venue, conn.id)
        return {"venue": self.venue, "connection": conn.id}

    def describe(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "lifetime_s": self.lifetime_s,
            "total": self.total,
            "closed_by_server": dict(self.closed_by),
            "notices_sent": self.notices_sent,
            "open": [_row(c, now) for c in self.open.values() if not c.ws.closed],
            "closed": list(self.closed),
        }

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---------------------------------------------------------------- internals

    def _close(self, conn: _Conn, reason: str, code: int = WSCloseCode.GOING_AWAY) -> None:
        conn.reason = reason
        self.closed_by[reason] = self.closed_by.get(reason, 0) + 1
        metrics.CONNECTIONS_CLOSED.labels(self.venue, reason).inc()
        self._spawn(conn.ws.close(code=code, message=reason.encode()))
        self._ended(conn, time.monotonic())

    def _ended(self, conn: _Conn, now: float) -> None:
        if self.open.pop(conn.id, None) is not None:
            conn.closed = now
            self.closed.append(_row(conn, now))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_quiet)


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()


def _address(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


def _row(conn: _Conn, now: float) -> dict[str, Any]:
    end = conn.closed if conn.closed is not None else now
    return {"id": conn.id, "peer": conn.peer, "path": conn.path,
            "age_s": round(end - conn.opened, 3), "closed_by_server": conn.reason}  # fmt: skip
