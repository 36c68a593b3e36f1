"""The simulator's Bitget: v2 spot public WS and REST, private REST, on Bitget's own paths.

Public WS ``/v2/ws/public``: ``ping`` -> ``pong``; subscribe acks ``{"event": "subscribe",
"arg": ...}``; a bad request answers ``{"event": "error", "code": 30001, ...}`` (30016 for a
bad op); ``books`` pushes a ``snapshot`` of the whole book then ``update`` pushes, each with
``seq`` and the CRC-32 of the top 25 levels as the client holds them; ``books1`` /
``books5`` / ``books15`` push top-N snapshots. Numbers are padded to the pair's precision,
as Bitget writes them. Faults honoured here: drop_connection, skip_seq (a change never sent:
the next checksum shows it, as Bitget's seq is not +1 a push), bad_checksum, malformed_frame,
corrupt_book (the best bid's size doubled on the wire, the checksum of the true book),
bad_level (public WS) and lose_response (orders, see sim/private.py).
REST: ``/api/v2/spot/market/orderbook`` (no sequence), ``/api/v2/spot/public/symbols``,
``/api/v2/public/time``, ``/api/v2/margin/currencies`` (empty: what ccxt's market load asks).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_structs import Instrument

from arb_venues.bitget import errors as codes
from arb_venues.bitget.checksum import LEVELS, checksum
from arb_venues.bitget.market import BOOKS_PUSH_INTERVAL_S, REST_BOOK_DEPTH, BitgetMarket
from arb_venues.bitget.sim import bodies as simformat
from arb_venues.bitget.sim.private import add_private_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SHARED_FRAMES,
    Coalescer,
    PendingBook,
    SharedFrames,
    SimBook,
    SimBookUpdate,
    SimLevel,
    SimMarket,
    SimTrade,
    trades_handler,
    venue_now_ns,
    write_outbox,
)

MARKET: web.AppKey[SimMarket] = web.AppKey("bitget_market", SimMarket)
CONNECTIONS: web.AppKey[set[_Connection]] = web.AppKey("bitget_connections", set)
TOP_CHANNELS = {"books1": 1, "books5": 5, "books15": 15}
CHANNELS = {"books", *TOP_CHANNELS}
BAD_CHECKSUM_MASK = 0x5A5A5A5A


def create_app(market: SimMarket) -> web.Application:
    app = web.Application()
    app[MARKET] = market
    app[ERROR_RESPONSE] = simformat.error_response
    app[SHARED_FRAMES] = SharedFrames()
    connections = app[CONNECTIONS] = set()
    Coalescer(market, BOOKS_PUSH_INTERVAL_S,
              partial(_push_books, connections, app[SHARED_FRAMES])).install(app)  # fmt: skip
    app.router.add_get("/v2/ws/public", _public_ws)
    app.router.add_get("/api/v2/spot/market/orderbook", _rest_book)
    app.router.add_get("/api/v2/spot/public/symbols", _rest_symbols)
    app.router.add_get("/api/v2/public/time", _rest_time)
    app.router.add_get("/api/v2/margin/currencies", _rest_margin_currencies)
    add_private_routes(app, market)
    app.router.add_get(BitgetMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"code": "40034", "msg": "Parameter symbol does not exist",
                                   "requestTime": time.time_ns() // 1_000_000, "data": None},
                                  status=400),
        default_limit=100, max_limit=500))  # fmt: skip
    return app


def _by_venue_symbol(market: SimMarket) -> dict[str, Instrument]:
    return {i.venue_symbol: i for i in market.instruments.values()}


# -- public REST ------------------------------------------------------------------------------


async def _rest_book(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    name = request.query.get("symbol", "")
    if not name:
        return simformat.error(codes.PARAMETER_EMPTY, param="symbol")
    instrument = _by_venue_symbol(market).get(name)
    if instrument is None:
        return simformat.error(codes.SYMBOL_MISSING, param=name)
    try:
        limit = min(REST_BOOK_DEPTH, max(1, int(request.query.get("limit", "150"))))
    except ValueError:
        return simformat.error(codes.PARAMETER_ERROR, param="limit")
    book = market.book(instrument.symbol)
    data = {
        "asks": simformat.levels(book.asks[:limit], instrument),
        "bids": simformat.levels(book.bids[:limit], instrument),
        "ts": simformat.millis(book.ts_ns),
    }
    return simformat.body(data=data)


def _precision(step: str) -> str:
    exponent = Decimal(step).normalize().as_tuple().exponent
    return str(-exponent if isinstance(exponent, int) and exponent < 0 else 0)


async def _rest_symbols(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    wanted = request.query.get("symbol")
    rows = [
        {
            "symbol": i.venue_symbol,
            "baseCoin": i.base,
            "quoteCoin": i.quote,
            "minTradeAmount": i.min_size,
            "maxTradeAmount": "10000000000",
            "takerFeeRate": "0.001",
            "makerFeeRate": "0.001",
            "pricePrecision": _precision(i.tick_size),
            "quantityPrecision": _precision(i.lot_size),
            "quotePrecision": _precision(i.tick_size),
            "status": "online" if i.status == "trading" else "offline",
            "minTradeUSDT": i.min_notional,
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
        }
        for i in market.instruments.values()
        if wanted is None or i.venue_symbol == wanted
    ]
    return simformat.body(data=rows)


async def _rest_time(request: web.Request) -> web.Response:
    return simformat.body(data={"serverTime": simformat.millis(venue_now_ns(request.app[MARKET]))})


async def _rest_margin_currencies(request: web.Request) -> web.Response:
    """The margin pairs (ccxt's market load asks for them): the simulator offers no margin."""
    return simformat.body(data=[])


# -- public WS --------------------------------------------------------------------------------


class _Book:
    """One book as one connection's client holds it: what was sent (plus changes the
    skip_seq fault withheld), for the checksum."""

    def __init__(self, instrument: Instrument, bids: list[SimLevel], asks: list[SimLevel]) -> None:
        self.instrument = instrument
        self.bids = dict(bids)
        self.asks = dict(asks)

    def apply(self, bids: list[SimLevel], asks: list[SimLevel]) -> None:
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, size in changes:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def checksum(self) -> int:
        fmt = simformat.level
        bids = [fmt(p, self.bids[p], self.instrument) for p in heapq.nlargest(LEVELS, self.bids)]
        asks = [fmt(p, self.asks[p], self.instrument) for p in heapq.nsmallest(LEVELS, self.asks)]
        return checksum([(p, s) for p, s in bids], [(p, s) for p, s in asks])


class _Connection:
    """One public WS client: its subscriptions and the frames waiting to be sent."""

    def __init__(self, ws: web.WebSocketResponse, market: SimMarket, shared: SharedFrames) -> None:
        self.ws = ws
        self.market = market
        self.shared = shared
        self.channels: dict[str, set[str]] = {}  # symbol -> channels
        self.books: dict[str, _Book] = {}  # symbol -> the books channel's client book
        self.sent_seq: dict[str, int] = {}
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.instruments = _by_venue_symbol(market)

    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put_nowait(msgspec.json.encode(frame).decode())

    @staticmethod
    def _arg(channel: str, instrument: Instrument) -> dict[str, str]:
        return {"instType": "SPOT", "channel": channel, "instId": instrument.venue_symbol}

    def on_update(self, update: SimBookUpdate) -> None:
        channels = self.channels.get(update.symbol)
        if not channels or update.seq <= self.sent_seq.get(update.symbol, -1):
            return
        tops = [c for c in channels if c != "books"]  # books: the interval pushes (on_push)
        if not tops:
            return
        faults = self.market.faults
        if faults.take("drop_connection", update.symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", update.symbol):
            self.outbox.put_nowait('{"action":"snapshot","arg":{"channel":"books5"},"data":[{')
        if "books" not in channels:  # books moves sent_seq with its own pushes
            self.sent_seq[update.symbol] = update.seq
        instrument = self.market.instruments[update.symbol]
        for channel in tops:
            self.push_top(channel, instrument)

    def on_push(self, pending: PendingBook, shared: SharedFrames) -> None:
        """One ``books`` interval push, built once in ``shared`` for every connection that no
        fault hits, with this connection's faults."""
        symbol = pending.symbol
        if "books" not in self.channels.get(symbol, ()) or pending.seq <= self.sent_seq.get(
            symbol, -1
        ):
            return  # not subscribed, or its snapshot is newer than anything in this push
        faults = self.market.faults
        if faults.take("drop_connection", symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", symbol):
            self.outbox.put_nowait('{"action":"update","arg":{"channel":"books"},"data":[{"asks":')
        self.sent_seq[symbol] = pending.seq
        if faults.take("skip_seq", symbol):
            return  # never sent: the client's next checksum shows the missing changes
        bad_checksum = faults.take("bad_checksum", symbol)
        book = self.market.book(symbol)  # the book at this push's seq (nothing since)
        corrupt = faults.take("corrupt_book", symbol) and bool(book.bids)
        bad = faults.take_params("bad_level", symbol)
        instrument = self.market.instruments[symbol]
        if not bad_checksum and not corrupt and bad is None:
            self.outbox.put_nowait(shared.get(
                ("books", symbol, pending.seq),
                partial(self._update_frame, pending, instrument, book)))  # fmt: skip
            return
        pending_bids, pending_asks = pending.sides()
        bids = simformat.levels(pending_bids, instrument)
        asks = simformat.levels(pending_asks, instrument)
        value = _top_checksum(book, instrument)
        if bad_checksum:
            value ^= BAD_CHECKSUM_MASK
        if corrupt:
            best, size = book.bids[0]
            text = simformat.level(best, size * 2, instrument)
            bids = [lv for lv in bids if lv[0] != text[0]] + [text]
        if bad is not None:
            bad_value = str(bad.get("value", "NaN"))
            if bad.get("field") == "size" and book.asks:
                price = simformat.level(book.asks[0][0], Decimal(0), instrument)[0]
                asks = [lv for lv in asks if lv[0] != price] + [[price, bad_value]]
            else:
                bids = [*bids, [bad_value, "1"]]
        self.send(self._update_body(pending, instrument, bids, asks, value))

    def _update_frame(self, pending: PendingBook, instrument: Instrument, book: SimBook) -> str:
        pending_bids, pending_asks = pending.sides()
        bids = simformat.levels(pending_bids, instrument)
        asks = simformat.levels(pending_asks, instrument)
        value = _top_checksum(book, instrument)
        return msgspec.json.encode(self._update_body(pending, instrument, bids, asks, value)
                                   ).decode()  # fmt: skip

    def _update_body(
        self,
        pending: PendingBook,
        instrument: Instrument,
        bids: list[list[str]],
        asks: list[list[str]],
        value: int,
    ) -> dict[str, Any]:
        return {
            "action": "update",
            "arg": self._arg("books", instrument),
            "data": [
                {
                    "asks": asks,
                    "bids": bids,
                    "checksum": value,
                    "seq": pending.seq,
                    "ts": simformat.millis(pending.ts_ns),
                }
            ],
            "ts": pending.ts_ns // 1_000_000,
        }

    def push_top(self, channel: str, instrument: Instrument) -> None:
        book = self.market.book(instrument.symbol)
        self.outbox.put_nowait(self.shared.get(
            (channel, instrument.symbol, book.seq),
            lambda: self._top_frame(channel, instrument)))  # fmt: skip

    def _top_frame(self, channel: str, instrument: Instrument) -> str:
        depth = TOP_CHANNELS[channel]
        book = self.market.book(instrument.symbol)
        frame = {
            "action": "snapshot",
            "arg": self._arg(channel, instrument),
            "data": [
                {
                    "asks": simformat.levels(book.asks[:depth], instrument),
                    "bids": simformat.levels(book.bids[:depth], instrument),
                    "seq": book.seq,
                    "ts": simformat.millis(book.ts_ns),
                }
            ],
            "ts": book.ts_ns // 1_000_000,
        }
        return msgspec.json.encode(frame).decode()

    def error(self, code: int, msg: str) -> None:
        self.send({"event": "error", "code": code, "msg": msg})

    def on_text(self, text: str) -> None:
        if text == "ping":
            self.outbox.put_nowait("pong")
            return
        try:
            request = msgspec.json.decode(text)
            op, args = request["op"], request["args"]
            if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
                raise ValueError(op)
            triples = [(str(a["instType"]), str(a["channel"]), str(a["instId"])) for a in args]
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            self.error(30016, f"param error: {text[:200]}")
            return
        for inst_type, channel, inst_id in triples:
            instrument = self.instruments.get(inst_id)
            if inst_type != "SPOT" or channel not in CHANNELS or instrument is None:
                self.error(30001, f"instType:{inst_type},channel:{channel},instId:{inst_id} "
                                  "doesn't exist")  # fmt: skip
                continue
            arg = self._arg(channel, instrument)
            symbol = instrument.symbol
            if op == "unsubscribe":
                self.channels.get(symbol, set()).discard(channel)
                if channel == "books":
                    self.books.pop(symbol, None)
                self.send({"event": "unsubscribe", "arg": arg})
                continue
            self.channels.setdefault(symbol, set()).add(channel)
            self.send({"event": "subscribe", "arg": arg})
            self.snapshot(channel, instrument)

    def snapshot(self, channel: str, instrument: Instrument) -> None:
        book = self.market.book(instrument.symbol)
        self.sent_seq[instrument.symbol] = max(self.sent_seq.get(instrument.symbol, -1), book.seq)
        if channel != "books":
            self.push_top(channel, instrument)
            return
        client = self.books[instrument.symbol] = _Book(instrument, book.bids, book.asks)
        self.send(
            {
                "action": "snapshot",
                "arg": self._arg("books", instrument),
                "data": [
                    {
                        "asks": simformat.levels(book.asks, instrument),
                        "bids": simformat.levels(book.bids, instrument),
                        "checksum": client.checksum(),
                        "seq": book.seq,
                        "ts": simformat.millis(book.ts_ns),
                    }
                ],
                "ts": book.ts_ns // 1_000_000,
            }
        )


def _top_checksum(book: SimBook, instrument: Instrument) -> int:
    """The checksum of ``book``'s top levels as the client holds them (text as pushed)."""
    tick, lot, text = instrument.tick_size, instrument.lot_size, simformat.padded
    return checksum([(text(p, tick), text(s, lot)) for p, s in book.bids[:LEVELS]],
                    [(text(p, tick), text(s, lot)) for p, s in book.asks[:LEVELS]])  # fmt: skip


def _push_books(connections: set[_Connection], shared: SharedFrames, pending: PendingBook) -> None:
    for connection in list(connections):
        connection.on_push(pending, shared)


async def _public_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    connection = _Connection(ws, request.app[MARKET], request.app[SHARED_FRAMES])
    connections = request.app[CONNECTIONS]
    connections.add(connection)
    unsubscribe = connection.market.subscribe(connection.on_update)
    writer = asyncio.create_task(write_outbox(connection.ws, connection.outbox))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                connection.on_text(message.data)
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        unsubscribe()
        connections.discard(connection)
        connection.outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await ws.close()
    return ws


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v2/spot/market/fills: newest first, ``side`` the taker's."""
    return {"code": "00000", "msg": "success", "requestTime": time.time_ns() // 1_000_000,
            "data": [{"symbol": instrument.venue_symbol, "tradeId": str(t.trade_id),
                      "side": t.side.value, "price": _num(t.price), "size": _num(t.size),
                      "ts": str(t.ts_ns // 1_000_000)} for t in trades]}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
