"""The simulator's side of Gate APIv4 spot: ``create_app(market)`` serves the same protocol.

WS ``/ws/v4/`` (https://www.gate.io/docs/developers/apiv4/ws/en/): requests ``{"time",
"channel", "event", "payload"}``; ``spot.order_book_update`` subscribe / unsubscribe with
``[pair, "100ms"|"20ms"|"1000ms"]``, acked ``{"result": {"status": "success"}}`` or answered
with an ``error`` (code 1 "invalid argument", 2 "invalid request"); ``spot.ping`` answered on
``spot.pong``. Every interval the core's book updates of a pair are merged into one update
whose ``U``/``u`` are the first and last of them (the core's per-book seq), so the REST
``order_book?with_id=true`` ``id`` (= the book's seq) joins them exactly as on Gate. No
snapshot on the WS: the client takes it from REST.

Faults: drop_connection (close), skip_seq (an interval's update is never sent: the next U
jumps), malformed_frame (a truncated frame), lose_response (order executed, no answer;
sim/private.py).
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
from arb_structs import Instrument

from arb_venues.gateio.market import UPDATE_INTERVAL, UPDATE_INTERVALS_S, GateMarket
from arb_venues.gateio.parser import BOOK_CHANNEL
from arb_venues.gateio.sim import bodies
from arb_venues.gateio.sim.private import add_private_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SimBookUpdate,
    SimMarket,
    SimTrade,
    trades_handler,
    venue_now_ns,
)

# One timer at the engine's interval; each subscription pushes every so many of its ticks
# (market.UPDATE_INTERVALS_S). "20ms" is served at this 100 ms tick: nothing here asks for it.
TICK_S = UPDATE_INTERVALS_S[UPDATE_INTERVAL]
INTERVALS = {name: max(1, round(s / TICK_S)) for name, s in UPDATE_INTERVALS_S.items()}
_encoder = msgspec.json.Encoder()


@dataclass
class _Pending:
    first: int
    last: int
    ts_ns: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


@dataclass(eq=False)
class _Client:
    ws: web.WebSocketResponse
    subscribed: dict[str, int] = field(default_factory=dict)  # symbol -> ticks per update
    pending: dict[str, _Pending] = field(default_factory=dict)

    def on_update(self, update: SimBookUpdate) -> None:
        if update.symbol not in self.subscribed:
            return
        pending = self.pending.get(update.symbol)
        if pending is None:
            pending = self.pending[update.symbol] = _Pending(update.seq, update.seq, update.ts_ns)
        pending.last, pending.ts_ns = update.seq, update.ts_ns
        pending.bids.update(update.bids)
        pending.asks.update(update.asks)


class GateSim:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.clients: set[_Client] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def pairs(self) -> dict[str, str]:
        """venue symbol -> normalised symbol."""
        return {i.venue_symbol: s for s, i in self.market.instruments.items()}

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

    # -- public REST -------------------------------------------------------------------------

    async def order_book(self, request: web.Request) -> web.Response:
        symbol = self.pairs().get(request.query.get("currency_pair", ""))
        if symbol is None:
            return bodies.error(bodies.INVALID_PAIR)
        try:
            limit = int(request.query.get("limit", "10"))
        except ValueError:
            return bodies.error(bodies.INVALID_PARAM)
        if not 1 <= limit <= 100:
            return bodies.error(bodies.INVALID_PARAM)
        book = self.market.book(symbol)
        body: dict[str, Any] = {}
        if request.query.get("with_id") == "true":
            body["id"] = book.seq
        now = bodies.now_ms()
        body.update(
            current=now,
            update=book.ts_ns // 1_000_000 or now,
            asks=bodies.levels(book.asks, limit),
            bids=bodies.levels(book.bids, limit),
        )
        return bodies.json_response(body)

    async def currency_pairs(self, request: web.Request) -> web.Response:
        rows = []
        for instrument in self.market.instruments.values():
            rows.append({
                "id": instrument.venue_symbol, "base": instrument.base,
                "quote": instrument.quote, "fee": "0.1",
                "min_base_amount": instrument.min_size or instrument.lot_size,
                "min_quote_amount": instrument.min_notional or "0",
                "amount_precision": _decimals(instrument.lot_size),
                "precision": _decimals(instrument.tick_size),
                "trade_status": "tradable", "sell_start": 0, "buy_start": 0,
            })  # fmt: skip
        return bodies.json_response(rows)

    async def server_time(self, request: web.Request) -> web.Response:
        return bodies.json_response({"server_time": venue_now_ns(self.market) // 1_000_000})

    # -- WS ----------------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        client = _Client(ws)
        self.clients.add(client)
        flusher = asyncio.create_task(self._flush_loop(client))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                reply = self._request(client, message.data)
                if reply is not None:
                    await ws.send_str(_encoder.encode(reply).decode())
        finally:
            self.clients.discard(client)
            await stop_task(flusher)
            await ws.close()
        return ws

    def _request(self, client: _Client, text: str) -> dict[str, Any] | None:
        now = int(time.time())
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return {"time": now, "channel": "", "event": "", "error": {"code": 2, "message":
                    "invalid request body"}, "result": {"status": "fail"}}  # fmt: skip
        if not isinstance(request, dict):
            return {"time": now, "channel": "", "event": "", "error": {"code": 2, "message":
                    "invalid request body"}, "result": {"status": "fail"}}  # fmt: skip
        channel, event = str(request.get("channel", "")), str(request.get("event", ""))
        head: dict[str, Any] = {"time": now, "channel": channel, "event": event}
        if "id" in request:
            head["id"] = request["id"]
        if channel == "spot.ping":
            return {"time": now, "channel": "spot.pong", "event": "", "result": None}
        if channel != BOOK_CHANNEL or event not in ("subscribe", "unsubscribe"):
            return {**head, "error": {"code": 2, "message": f"unknown channel {channel!r}"},
                    "result": {"status": "fail"}}  # fmt: skip
        payload = request.get("payload")
        pairs = self.pairs()
        if (not isinstance(payload, list) or len(payload) != 2 or payload[0] not in pairs
                or payload[1] not in INTERVALS):  # fmt: skip
            return {**head, "error": {"code": 1, "message": "invalid argument"},
                    "result": {"status": "fail"}}  # fmt: skip
        symbol = pairs[payload[0]]
        if event == "subscribe":
            client.subscribed[symbol] = INTERVALS[payload[1]]
        else:
            client.subscribed.pop(symbol, None)
            client.pending.pop(symbol, None)
        return {**head, "result": {"status": "success"}}

    async def _flush_loop(self, client: _Client) -> None:
        faults = self.market.faults
        loop = asyncio.get_running_loop()
        due = loop.time()
        tick = 0
        while not client.ws.closed:
            due += TICK_S
            await asyncio.sleep(max(0.0, due - loop.time()))
            if loop.time() - due > TICK_S:
                due = loop.time()
            tick += 1
            if faults.take("drop_connection"):
                await client.ws.close()
                return
            if faults.take("malformed_frame"):
                await client.ws.send_str('{"time":1,"channel":"spot.order_book_update","event":"up')
            for symbol in list(client.pending):
                every = client.subscribed.get(symbol)
                if every is None or tick % every:
                    continue
                pending = client.pending.pop(symbol)
                if faults.take("skip_seq", symbol):
                    continue  # this interval's update is lost: the next U jumps past u + 1
                await client.ws.send_str(self._frame(symbol, pending))

    def _frame(self, symbol: str, pending: _Pending) -> str:
        ms = pending.ts_ns // 1_000_000 or bodies.now_ms()
        result = {
            "t": ms, "e": "depthUpdate", "E": ms // 1000,
            "s": self.market.instruments[symbol].venue_symbol,
            "U": pending.first, "u": pending.last,
            "b": [[bodies.text(p), bodies.text(q)] for p, q in sorted(pending.bids.items(),
                                                                       reverse=True)],
            "a": [[bodies.text(p), bodies.text(q)] for p, q in sorted(pending.asks.items())],
        }  # fmt: skip
        frame = {"time": ms // 1000, "time_ms": ms, "channel": BOOK_CHANNEL, "event": "update",
                 "result": result}  # fmt: skip
        return _encoder.encode(frame).decode()


def _decimals(step: str) -> int:
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 8


SIM_KEY = web.AppKey("gateio_sim", GateSim)


def create_app(market: SimMarket) -> web.Application:
    """Gate's public WS + REST and private REST over ``market``."""
    app = web.Application()
    sim = GateSim(market)
    app[SIM_KEY] = sim
    app[ERROR_RESPONSE] = bodies.error_response
    app.router.add_get("/ws/v4/", sim.ws)
    app.router.add_get("/ws/v4", sim.ws)
    app.router.add_get("/api/v4/spot/order_book", sim.order_book)
    app.router.add_get("/api/v4/spot/currency_pairs", sim.currency_pairs)
    app.router.add_get("/api/v4/spot/time", sim.server_time)
    add_private_routes(app, market)
    app.on_startup.append(sim.start)
    app.on_shutdown.append(sim.stop)
    app.router.add_get(GateMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("currency_pair", ""), _trades_body,
        lambda: web.json_response({"label": "INVALID_CURRENCY_PAIR",
                                   "message": "Invalid currency pair"}, status=400),
        default_limit=100, max_limit=1000))  # fmt: skip
    return app


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v4/spot/trades: newest first, ``side`` the taker's, ``create_time_ms``
    "ms.fraction"."""
    return [{"id": str(t.trade_id), "create_time": str(t.ts_ns // 1_000_000_000),
             "create_time_ms": f"{t.ts_ns // 1_000_000}.{t.ts_ns // 1000 % 1000:03d}",
             "currency_pair": instrument.venue_symbol, "side": t.side.value,
             "amount": _num(t.size), "price": _num(t.price), "sequence_id": str(t.trade_id)}
            for t in trades]  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
