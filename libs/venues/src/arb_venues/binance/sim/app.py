"""The simulator's side of Binance spot: ``create_app(market)`` serves the same protocol.

WS (web-socket-streams.md): ``/stream?streams=<a>/<b>`` (combined frames) and
``/ws/<stream>`` or ``/ws`` (raw frames); the SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS /
SET_PROPERTY / GET_PROPERTY methods with their replies and error codes; more than 5 incoming
messages in a second closes the connection; the server pings every 20 s. Diff depth events
``<symbol>@depth`` (1000 ms) and ``<symbol>@depth@100ms`` aggregate the core's book updates
into one ``depthUpdate`` with ``U`` = first and ``u`` = last update id of the interval (the
core's per-book seq), so ``/api/v3/depth``'s ``lastUpdateId`` (= book seq) straddles them
exactly as on Binance. No snapshot on the WS: Binance has none for the diff stream.

Faults: drop_connection (close), skip_seq (an interval's event is never sent: the next U
jumps), malformed_frame (a truncated frame), lose_response (order executed, no answer).
REST lives in sim/rest.py, bodies in sim/bodies.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument, Side

from arb_venues.binance.market import DEPTH_INTERVALS_S, BinanceMarket
from arb_venues.binance.numbers import wire8
from arb_venues.binance.sim.bodies import error_response, now_ms
from arb_venues.binance.sim.rest import SimRest, add_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    RECONNECT_NOTICE,
    SimBookUpdate,
    SimMarket,
    SimTrade,
    trades_handler,
)

TICK_S = min(DEPTH_INTERVALS_S.values())  # the fastest stream interval (@depth@100ms)
MAX_MESSAGES_PER_SECOND = 5
MAX_STREAMS = 1024
PING_INTERVAL_S = 20.0
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_encoder = msgspec.json.Encoder()


@dataclass
class _Pending:
    first: int
    last: int
    ts_ns: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


@dataclass
class _Stream:
    symbol: str  # normalised
    venue_symbol: str  # BNBBTC
    every_ticks: int  # 1 for @100ms, 10 for the 1000 ms stream


@dataclass(eq=False)  # identity-hashed: kept in a set
class _Client:
    ws: web.WebSocketResponse
    combined: bool
    streams: dict[str, _Stream | None] = field(default_factory=dict)  # None: no data served
    pending: dict[str, _Pending] = field(default_factory=dict)  # by stream name
    received: list[float] = field(default_factory=list)  # message times, last second
    # Stream names by normalised symbol: an update touches only its symbol's streams, so a
    # connection with hundreds of streams costs no more per update than one with a single one.
    by_symbol: dict[str, list[str]] = field(default_factory=dict)

    def reindex(self) -> None:
        """Rebuild ``by_symbol`` after ``streams`` changed."""
        self.by_symbol = {}
        for name, stream in self.streams.items():
            if stream is not None:
                self.by_symbol.setdefault(stream.symbol, []).append(name)

    def on_update(self, update: SimBookUpdate) -> None:
        for name in self.by_symbol.get(update.symbol, ()):
            pending = self.pending.get(name)
            if pending is None:
                pending = self.pending[name] = _Pending(update.seq, update.seq, update.ts_ns)
            pending.last, pending.ts_ns = update.seq, update.ts_ns
            pending.bids.update(update.bids)
            pending.asks.update(update.asks)


class BinanceSim:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.clients: set[_Client] = set()
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        self._unsubscribe = self.market.subscribe(self._on_update)

    async def stop(self, app: web.Application) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for client in list(self.clients):
            await client.ws.close()

    def _on_update(self, update: SimBookUpdate) -> None:
        for client in self.clients:
            client.on_update(update)

    # -- streams -----------------------------------------------------------------------------

    def stream(self, name: str) -> _Stream | None:
        """The diff-depth stream ``name`` serves, or None (other kinds, unknown symbols)."""
        lowered, _, kind = name.partition("@")
        interval_s = DEPTH_INTERVALS_S.get(kind)
        if interval_s is None:
            return None
        every = round(interval_s / TICK_S)
        for symbol, instrument in self.market.instruments.items():
            if instrument.venue_symbol.lower() == lowered:
                return _Stream(symbol, instrument.venue_symbol, every)
        return None

    async def combined(self, request: web.Request) -> web.WebSocketResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=True)

    async def raw(self, request: web.Request) -> web.WebSocketResponse:
        names = [n for n in request.match_info.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=False)

    async def _serve(self, request: web.Request, names: list[str], combined: bool
                     ) -> web.WebSocketResponse:  # fmt: skip
        ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S, autoping=True)
        client = _Client(ws, combined, {n: self.stream(n) for n in names[:MAX_STREAMS]})
        client.reindex()
        # Registered before the handshake completes: no update falls between the client's
        # first REST snapshot and its first diff.
        self.clients.add(client)
        try:
            await ws.prepare(request)
        except BaseException:
            self.clients.discard(client)
            raise
        flusher = asyncio.create_task(self._flush_loop(client))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if self._over_limit(client):
                    break  # Binance disconnects a connection over 5 messages per second
                reply = self._method(client, message.data)
                if reply is not None:
                    await ws.send_str(_encoder.encode(reply).decode())
        finally:
            self.clients.discard(client)
            await stop_task(flusher)
            await ws.close()
        return ws

    @staticmethod
    def _over_limit(client: _Client) -> bool:
        now = time.monotonic()
        client.received = [t for t in client.received if now - t < 1.0]
        client.received.append(now)
        return len(client.received) > MAX_MESSAGES_PER_SECOND

    def _method(self, client: _Client, text: str) -> dict[str, Any] | None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}
        if not isinstance(request, dict) or "method" not in request:
            return {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 1"}
        ident, method, params = request.get("id"), request["method"], request.get("params", [])
        if ident is not None and not isinstance(ident, int | str):
            return {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}
        if method not in _METHODS:
            expected = ", ".join(f"`{m}`" for m in _METHODS)
            msg = f"Invalid request: unknown variant `{method}`, expected one of {expected}"
            return {"code": 2, "msg": f"{msg} at line 1 column 28", "id": ident}
        result: object = None
        if method == "SUBSCRIBE":
            for name in params:
                if isinstance(name, str) and len(client.streams) < MAX_STREAMS:
                    client.streams[name] = self.stream(name)
            client.reindex()
        elif method == "UNSUBSCRIBE":
            for name in params:
                client.streams.pop(name, None)
                client.pending.pop(name, None)
            client.reindex()
        elif method == "LIST_SUBSCRIPTIONS":
            result = list(client.streams)
        elif not params or params[0] != "combined":
            return {"code": 0, "msg": "Unknown property", "id": ident}
        elif method == "SET_PROPERTY":
            if len(params) < 2 or not isinstance(params[1], bool):
                return {"code": 1, "msg": "Invalid value type: expected Boolean"}
            client.combined = params[1]
        else:  # GET_PROPERTY
            result = client.combined
        return {"result": result, "id": ident}

    async def _flush_loop(self, client: _Client) -> None:
        faults = self.market.faults
        loop = asyncio.get_running_loop()
        due = loop.time()
        tick = 0
        while not client.ws.closed:
            # Every 100 ms on the clock, not 100 ms after the last flush finished: the stream
            # keeps its cadence however many streams a flush sends.
            due += TICK_S
            await asyncio.sleep(max(0.0, due - loop.time()))
            if loop.time() - due > TICK_S:
                due = loop.time()  # fell a whole interval behind: resume from now
            tick += 1
            if faults.take("drop_connection"):
                await client.ws.close()
                return
            if faults.take("malformed_frame"):
                await client.ws.send_str('{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUp')
            for name in list(client.pending):
                stream = client.streams.get(name)
                if stream is None or tick % stream.every_ticks:
                    continue
                pending = client.pending.pop(name)
                if faults.take("skip_seq", stream.symbol):
                    continue  # this interval's event is lost: the next U jumps past u + 1
                await client.ws.send_str(self._frame(client, name, stream, pending))

    @staticmethod
    def _frame(client: _Client, name: str, stream: _Stream, pending: _Pending) -> str:
        event = {
            "e": "depthUpdate",
            "E": pending.ts_ns // 1_000_000 or now_ms(),
            "s": stream.venue_symbol,
            "U": pending.first,
            "u": pending.last,
            "b": [[wire8(p), wire8(q)] for p, q in sorted(pending.bids.items(), reverse=True)],
            "a": [[wire8(p), wire8(q)] for p, q in sorted(pending.asks.items())],
        }
        payload = {"stream": name, "data": event} if client.combined else event
        return _encoder.encode(payload).decode()


SIM_KEY = web.AppKey("binance_sim", BinanceSim)
REST_KEY = web.AppKey("binance_rest", SimRest)


def server_shutdown() -> str:
    """The ``serverShutdown`` event Binance sends before it closes a connection (the shape of
    its WebSocket API's connection event: developers.binance.com/docs/binance-spot-api-docs/
    websocket-api/connection-events; the streams page names the event, not its body)."""
    return msgspec.json.encode({"e": "serverShutdown", "E": now_ms()}).decode()


def create_app(market: SimMarket) -> web.Application:
    """Binance's public WS + REST and private REST over ``market``."""
    app = web.Application()
    sim, rest = BinanceSim(market), SimRest(market)
    app[SIM_KEY], app[REST_KEY] = sim, rest
    app[ERROR_RESPONSE] = error_response
    app[RECONNECT_NOTICE] = server_shutdown
    app.router.add_get("/stream", sim.combined)
    app.router.add_get("/ws", sim.raw)
    app.router.add_get("/ws/{streams:.+}", sim.raw)
    add_routes(app, rest)
    app.on_startup.append(sim.start)
    app.on_shutdown.append(sim.stop)
    app.router.add_get(BinanceMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400),
        default_limit=500, max_limit=1000))  # fmt: skip
    return app


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v3/trades: oldest first; ``isBuyerMaker`` when the taker sold."""
    return [{"id": t.trade_id, "price": _num(t.price), "qty": _num(t.size),
             "quoteQty": _num(t.price * t.size), "time": t.ts_ns // 1_000_000,
             "isBuyerMaker": t.side is Side.SELL, "isBestMatch": True}
            for t in reversed(trades)]  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
