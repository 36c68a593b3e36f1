"""The simulator's KuCoin: the token call, the public WS and REST, private REST.

``POST /api/v1/bullet-public`` hands out a token and this server's WS endpoint with
``pingInterval``/``pingTimeout``. The WS (``/``) takes a connection only with a token it
issued (else ``{"type": "error", "code": 401, "data": "token is invalid"}`` and close),
greets it ``{"id": <connectId>, "type": "welcome"}``, answers ``ping`` with ``pong`` and
``subscribe`` of ``/market/level2:A,B`` (at most 100 symbols) with ``ack``; an unknown
symbol is error 404. Every book change is one ``trade.l2update`` with
``sequenceStart = sequenceEnd`` = the core's update counter (changes ``[price, size,
sequence]``). A connection that sent nothing for ``pingInterval + pingTimeout`` is closed
("ping timeout"), as KuCoin does.

REST books: ``/api/v1/market/orderbook/level2_20``, ``level2_100`` and
``/api/v3/market/orderbook/level2`` (the whole book; the real one needs a signature, the
simulator serves it to anyone), ``sequence`` = the same counter; ``/api/v2/symbols`` (and
``/api/v1/symbols``, the older listing cryptofeed reads, with the same rows);
``/api/v1/timestamp``, the venue's clock, which signed requests are judged against.

Faults honoured here: drop_connection, skip_seq (one update never sent: the next one's
sequenceStart shows the gap), malformed_frame, bad_level (an impossible number as a change's
price, or as the best ask's size), and lose_response (orders, sim/private.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_structs import Instrument

from arb_venues.kucoin.market import KucoinMarket
from arb_venues.kucoin.sim import bodies
from arb_venues.kucoin.sim.private import add_private_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SimBookUpdate,
    SimMarket,
    SimTrade,
    trades_handler,
    venue_now_ns,
    write_outbox,
)

MARKET: web.AppKey[SimMarket] = web.AppKey("kucoin_market", SimMarket)
OPTIONS: web.AppKey[dict[str, Any]] = web.AppKey("kucoin_options", dict)
TOKENS: web.AppKey[set[str]] = web.AppKey("kucoin_tokens", set)
PING_INTERVAL_MS = 18_000
PING_TIMEOUT_MS = 10_000
TOPIC = "/market/level2:"
SYMBOLS_PER_TOPIC = 100
BOOK_DEPTHS = {"/api/v1/market/orderbook/level2_20": 20,
               "/api/v1/market/orderbook/level2_100": 100,
               "/api/v3/market/orderbook/level2": 0}  # fmt: skip


def create_app(
    market: SimMarket,
    *,
    ping_interval_ms: int = PING_INTERVAL_MS,
    ping_timeout_ms: int = PING_TIMEOUT_MS,
) -> web.Application:
    app = web.Application()
    app[MARKET] = market
    app[OPTIONS] = {"ping_interval_ms": ping_interval_ms, "ping_timeout_ms": ping_timeout_ms}
    app[TOKENS] = set()
    app[ERROR_RESPONSE] = bodies.error_response
    app.router.add_get("/", _public_ws)
    app.router.add_post("/api/v1/bullet-public", _bullet)
    for path in BOOK_DEPTHS:
        app.router.add_get(path, _rest_book)
    app.router.add_get("/api/v2/symbols", _rest_symbols)
    app.router.add_get("/api/v1/symbols", _rest_symbols)  # the older listing, same rows
    app.router.add_get("/api/v1/timestamp", _rest_timestamp)
    add_private_routes(app, market)
    app.router.add_get(KucoinMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"code": "900001", "msg": "symbol not exists"}, status=400),
        default_limit=100, max_limit=100, limit_param="-"))  # fmt: skip
    return app


def _venue_symbols(market: SimMarket) -> dict[str, str]:
    return {i.venue_symbol: symbol for symbol, i in market.instruments.items()}


# -- public REST ------------------------------------------------------------------------------


async def _bullet(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(48)
    request.app[TOKENS].add(token)
    options = request.app[OPTIONS]
    return bodies.ok({
        "token": token,
        "instanceServers": [{
            "endpoint": f"ws://{request.host}/", "encrypt": False, "protocol": "websocket",
            "pingInterval": options["ping_interval_ms"],
            "pingTimeout": options["ping_timeout_ms"],
        }],
    })  # fmt: skip


async def _rest_timestamp(request: web.Request) -> web.Response:
    """``GET /api/v1/timestamp``: ``{"code": "200000", "data": <ms>}`` on the venue's clock
    (https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-server-time)."""
    return bodies.ok(venue_now_ns(request.app[MARKET]) // 1_000_000)


async def _rest_book(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    venue_symbol = request.query.get("symbol", "")
    symbol = _venue_symbols(market).get(venue_symbol)
    if symbol is None:
        return bodies.error(("400100", f"symbol {venue_symbol!r} not exists"))
    depth = BOOK_DEPTHS[request.path] or None
    book = market.book(symbol)
    return bodies.ok({
        "time": bodies.millis(book.ts_ns),
        "sequence": str(book.seq),
        "bids": bodies.levels(book.bids[:depth]),
        "asks": bodies.levels(book.asks[:depth]),
    })  # fmt: skip


async def _rest_symbols(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    rows = []
    for instrument in market.instruments.values():
        rows.append({
            "symbol": instrument.venue_symbol, "name": instrument.venue_symbol,
            "baseCurrency": instrument.base, "quoteCurrency": instrument.quote,
            "feeCurrency": instrument.quote, "market": instrument.quote,
            "baseMinSize": instrument.min_size, "quoteMinSize": instrument.min_notional or "0",
            "baseMaxSize": "10000000000", "quoteMaxSize": "99999999",
            "baseIncrement": instrument.lot_size, "quoteIncrement": instrument.tick_size,
            "priceIncrement": instrument.tick_size, "priceLimitRate": "0.1",
            "minFunds": instrument.min_notional or "0", "isMarginEnabled": False,
            "enableTrading": instrument.status == "trading",
        })  # fmt: skip
    return bodies.ok(rows)


# -- public WS --------------------------------------------------------------------------------


class _Connection:
    """One public WS client: its symbols, the frames waiting to be sent, its silence."""

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.symbols: set[str] = set()
        self.sent_seq: dict[str, int] = {}
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.venue_symbols = _venue_symbols(market)
        self.last_heard = time.monotonic()
        self.pings = 0

    def send(self, frame: object) -> None:
        self.outbox.put_nowait(bodies.encode(frame))

    def on_update(self, update: SimBookUpdate) -> None:
        if update.symbol not in self.symbols or update.seq <= self.sent_seq.get(update.symbol, -1):
            return
        faults = self.market.faults
        if faults.take("drop_connection", update.symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", update.symbol):
            self.outbox.put_nowait(b'{"type":"message","subject":"trade.l2update","data":{[')
        self.sent_seq[update.symbol] = update.seq
        if faults.take("skip_seq", update.symbol):
            return  # the next update's sequenceStart shows the gap
        venue_symbol = self.market.instruments[update.symbol].venue_symbol
        frame = {
            "type": "message",
            "topic": f"{TOPIC}{venue_symbol}",
            "subject": "trade.l2update",
            "data": {
                "changes": {"asks": bodies.changes(update.asks, update.seq),
                            "bids": bodies.changes(update.bids, update.seq)},
                "sequenceEnd": update.seq,
                "sequenceStart": update.seq,
                "symbol": venue_symbol,
                "time": bodies.millis(update.ts_ns),
            },
        }  # fmt: skip
        bad = faults.take_params("bad_level", update.symbol)
        if bad is None:
            self.send(frame)
            return
        value = str(bad.get("value", "-1"))
        raw = bodies.encode(frame).decode()
        seq = f'"{update.seq}"'
        if bad.get("field") == "size":
            book = self.market.book(update.symbol)
            price = bodies.text(book.asks[0][0]) if book.asks else "1"
            raw = raw.replace('"asks":[', f'"asks":[["{price}","{value}",{seq}],', 1)
        else:
            raw = raw.replace('"bids":[', f'"bids":[["{value}","1",{seq}],', 1)
        self.outbox.put_nowait(raw.encode())

    def on_text(self, text: str) -> None:
        self.last_heard = time.monotonic()
        try:
            request = msgspec.json.decode(text)
            if not isinstance(request, dict):
                raise ValueError(text)
        except (msgspec.DecodeError, ValueError):
            self.send({"type": "error", "code": 415, "data": "command type is invalid"})
            return
        kind, request_id = request.get("type"), request.get("id")
        if kind == "ping":
            self.pings += 1
            self.send({"id": request_id, "type": "pong", "timestamp": time.time_ns() // 1000})
            return
        if kind not in ("subscribe", "unsubscribe"):
            self.send({"id": request_id, "type": "error", "code": 415,
                       "data": "command type is invalid"})  # fmt: skip
            return
        topic = str(request.get("topic", ""))
        if not topic.startswith(TOPIC):
            self.send({"id": request_id, "type": "error", "code": 404,
                       "data": f"topic {topic} is not found"})  # fmt: skip
            return
        # Spaces around the names are read past (cryptofeed writes "/market/level2: A,B").
        names = [n.strip() for n in topic[len(TOPIC) :].split(",") if n.strip()]
        symbols = [self.venue_symbols.get(n) for n in names]
        if not names or len(names) > SYMBOLS_PER_TOPIC or None in symbols:
            self.send({"id": request_id, "type": "error", "code": 404 if names else 406,
                       "data": f"topic {topic} is not found"})  # fmt: skip
            return
        for symbol in symbols:
            assert symbol is not None
            if kind == "unsubscribe":
                self.symbols.discard(symbol)
            else:
                self.symbols.add(symbol)
                book = self.market.book(symbol)
                self.sent_seq[symbol] = max(self.sent_seq.get(symbol, -1), book.seq)
        if request.get("response", False):
            self.send({"id": request_id, "type": "ack"})


async def _silence_watch(connection: _Connection, limit_s: float) -> None:
    """Close the connection once the client has been silent for ``limit_s``."""
    while True:
        await asyncio.sleep(min(1.0, limit_s / 4))
        if time.monotonic() - connection.last_heard > limit_s:
            connection.send({"type": "error", "code": 400, "data": "ping timeout"})
            connection.outbox.put_nowait(None)
            return


async def _public_ws(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    connect_id = request.query.get("connectId") or secrets.token_hex(5)
    if request.query.get("token", "") not in request.app[TOKENS]:
        await ws.send_str(bodies.encode({"id": connect_id, "type": "error", "code": 401,
                                         "data": "token is invalid"}).decode())  # fmt: skip
        await ws.close()
        return ws
    options = request.app[OPTIONS]
    connection = _Connection(request.app[MARKET])
    connection.send({"id": connect_id, "type": "welcome"})
    unsubscribe = connection.market.subscribe(connection.on_update)
    writer = asyncio.create_task(write_outbox(ws, connection.outbox))
    limit_s = (options["ping_interval_ms"] + options["ping_timeout_ms"]) / 1000
    watch = asyncio.create_task(_silence_watch(connection, limit_s))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                connection.on_text(message.data)
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        unsubscribe()
        watch.cancel()
        connection.outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer
            await watch
        await ws.close()
    return ws


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v1/market/histories: the last 100, oldest first, ``time`` in ns."""
    return {"code": "200000", "data": [
        {"sequence": str(t.trade_id), "price": _num(t.price), "size": _num(t.size),
         "side": t.side.value, "time": t.ts_ns} for t in reversed(trades)]}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
